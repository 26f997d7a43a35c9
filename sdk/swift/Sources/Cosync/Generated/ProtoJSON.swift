// ProtoJSON.swift: proto3 JSON support for the generated models. Written by
// protoc-gen-cosync-swift; do not edit. The rules follow
// https://protobuf.dev/programming-guides/json/ as Go's protojson applies
// them: lowerCamelCase keys (either key accepted on decode), 64-bit integers
// as strings, enums by name, defaults omitted, well-known types in their
// JSON forms.

import Foundation

/// ProtoMessage is a generated message: a value type that encodes and
/// decodes itself as proto3 JSON with `JSONEncoder` and `JSONDecoder`.
public protocol ProtoMessage: ProtoJSONCodable, Codable, Hashable, Sendable {
    /// The message's full protobuf name, e.g. "cosync.auth.v1.User".
    static var protoMessageName: String { get }
}

/// ProtoEnum is a generated enum. Values are written by name; unknown names
/// or numbers decode to an `unrecognized` case instead of failing, so a newer
/// server never breaks an older app.
public protocol ProtoEnum: ProtoJSONCodable, Codable, Hashable, Sendable {
    /// The enum's full protobuf name, e.g. "cosync.auth.v1.UserStatus".
    static var protoEnumName: String { get }
    init(protoName: String)
    init(protoNumber: Int32)
    var protoName: String { get }
    var protoNumber: Int32 { get }
}

extension ProtoEnum {
    /// Reads a value by name or by number. Generated enums call it from
    /// their own init(from:), so no synthesized Codable takes its place.
    public static func decodeProtoEnum(from decoder: any Decoder) throws -> Self {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int32.self) {
            return Self(protoNumber: n)
        }
        return Self(protoName: try c.decode(String.self))
    }

    /// Writes the value's name; an unrecognized number is written as a number.
    public func encodeProtoEnum(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let n = Int32(protoName) {
            try c.encode(n)
        } else {
            try c.encode(protoName)
        }
    }

    public init(protoJSON decoder: any Decoder) throws { self = try Self.decodeProtoEnum(from: decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encodeProtoEnum(to: encoder) }
}

extension ProtoMessage {
    public init(protoJSON decoder: any Decoder) throws { try self.init(from: decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encode(to: encoder) }

    /// Decodes a message from proto3 JSON bytes.
    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(Self.self, from: jsonData)
    }

    /// Encodes the message as proto3 JSON bytes.
    public func jsonData() throws -> Data {
        try JSONEncoder().encode(self)
    }
}

/// ProtoJSONCodable is a value with a proto3 JSON form, which for some
/// Swift types (Int64, Data, Double) differs from their `Codable` form.
public protocol ProtoJSONCodable: Sendable {
    init(protoJSON decoder: any Decoder) throws
    func encodeProtoJSON(to encoder: any Encoder) throws
}

/// ProtoJSONKey is the coding key of generated messages.
public struct ProtoJSONKey: CodingKey, Hashable, Sendable, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
    public init(stringLiteral value: String) { stringValue = value }
}

/// ProtoJSONBox carries a ProtoJSONCodable through `Codable` containers.
public struct ProtoJSONBox<T: ProtoJSONCodable>: Codable, Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
    public init(from decoder: any Decoder) throws { value = try T(protoJSON: decoder) }
    public func encode(to encoder: any Encoder) throws { try value.encodeProtoJSON(to: encoder) }
}

// MARK: Scalars

extension String: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decoder.singleValueContainer().decode(String.self) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self)
    }
}

extension Bool: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decoder.singleValueContainer().decode(Bool.self) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self)
    }
}

/// decodeInteger accepts a JSON number or a string holding one, as proto3
/// JSON parsers must for every integer type.
private func decodeInteger<T: FixedWidthInteger & Decodable>(_ type: T.Type, _ decoder: any Decoder) throws -> T {
    let c = try decoder.singleValueContainer()
    if let v = try? c.decode(T.self) {
        return v
    }
    let s = try c.decode(String.self)
    if let v = T(s) {
        return v
    }
    if let d = Double(s), d.rounded() == d, let v = T(exactly: d) {
        return v
    }
    throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an integer: \(s)")
}

extension Int32: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeInteger(Int32.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self)
    }
}

extension UInt32: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeInteger(UInt32.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self)
    }
}

extension Int64: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeInteger(Int64.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(String(self))
    }
}

extension UInt64: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeInteger(UInt64.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(String(self))
    }
}

/// decodeFloating accepts a number, a numeric string, or "NaN",
/// "Infinity" and "-Infinity".
private func decodeFloating<T: BinaryFloatingPoint & Decodable & LosslessStringConvertible>(_ type: T.Type, _ decoder: any Decoder) throws -> T {
    let c = try decoder.singleValueContainer()
    if let v = try? c.decode(T.self) {
        return v
    }
    let s = try c.decode(String.self)
    switch s {
    case "NaN": return T.nan
    case "Infinity": return T.infinity
    case "-Infinity": return -T.infinity
    default:
        if let v = T(s) {
            return v
        }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a number: \(s)")
    }
}

private func encodeFloating<T: BinaryFloatingPoint & Encodable>(_ v: T, _ encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    if v.isNaN {
        try c.encode("NaN")
    } else if v.isInfinite {
        try c.encode(v < 0 ? "-Infinity" : "Infinity")
    } else {
        try c.encode(v)
    }
}

extension Float: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeFloating(Float.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encodeFloating(self, encoder) }
}

extension Double: ProtoJSONCodable {
    public init(protoJSON decoder: any Decoder) throws { self = try decodeFloating(Double.self, decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encodeFloating(self, encoder) }
}

extension Data: ProtoJSONCodable {
    /// Bytes are base64 in proto3 JSON; standard and URL-safe alphabets,
    /// with or without padding, are accepted.
    public init(protoJSON decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        var s = try c.decode(String.self)
        s = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 {
            s += "="
        }
        guard let d = Data(base64Encoded: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not base64")
        }
        self = d
    }

    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(base64EncodedString())
    }
}

// MARK: Map keys

/// ProtoMapKey is a type that can key a protobuf map; JSON object keys are
/// always strings.
public protocol ProtoMapKey: Hashable, Sendable {
    init?(protoMapKey: String)
    var protoMapKey: String { get }
}

extension String: ProtoMapKey {
    public init?(protoMapKey: String) { self = protoMapKey }
    public var protoMapKey: String { self }
}

extension Bool: ProtoMapKey {
    public init?(protoMapKey: String) {
        switch protoMapKey {
        case "true": self = true
        case "false": self = false
        default: return nil
        }
    }
    public var protoMapKey: String { self ? "true" : "false" }
}

extension Int32: ProtoMapKey {
    public init?(protoMapKey: String) { self.init(protoMapKey) }
    public var protoMapKey: String { String(self) }
}

extension UInt32: ProtoMapKey {
    public init?(protoMapKey: String) { self.init(protoMapKey) }
    public var protoMapKey: String { String(self) }
}

extension Int64: ProtoMapKey {
    public init?(protoMapKey: String) { self.init(protoMapKey) }
    public var protoMapKey: String { String(self) }
}

extension UInt64: ProtoMapKey {
    public init?(protoMapKey: String) { self.init(protoMapKey) }
    public var protoMapKey: String { String(self) }
}

// MARK: Containers

extension KeyedDecodingContainer where Key == ProtoJSONKey {
    /// decodeProto returns the field under its JSON name or, failing that,
    /// its proto name; nil when absent or null.
    public func decodeProto<T: ProtoJSONCodable>(_ type: T.Type, json: String, proto: String) throws -> T? {
        for name in json == proto ? [json] : [json, proto] {
            if let box = try decodeIfPresent(ProtoJSONBox<T>.self, forKey: ProtoJSONKey(name)) {
                return box.value
            }
        }
        return nil
    }

    /// decodeProtoArray decodes a repeated field; nil when absent or null.
    public func decodeProtoArray<T: ProtoJSONCodable>(_ type: T.Type, json: String, proto: String) throws -> [T]? {
        for name in json == proto ? [json] : [json, proto] {
            if let boxes = try decodeIfPresent([ProtoJSONBox<T>].self, forKey: ProtoJSONKey(name)) {
                return boxes.map { $0.value }
            }
        }
        return nil
    }

    /// decodeProtoMap decodes a map field; nil when absent or null.
    public func decodeProtoMap<K: ProtoMapKey, V: ProtoJSONCodable>(_ key: K.Type, _ value: V.Type, json: String, proto: String) throws -> [K: V]? {
        for name in json == proto ? [json] : [json, proto] {
            guard let raw = try decodeIfPresent([String: ProtoJSONBox<V>].self, forKey: ProtoJSONKey(name)) else {
                continue
            }
            var out: [K: V] = [:]
            for (k, box) in raw {
                guard let mk = K(protoMapKey: k) else {
                    throw DecodingError.dataCorruptedError(forKey: ProtoJSONKey(name), in: self, debugDescription: "bad map key \(k)")
                }
                out[mk] = box.value
            }
            return out
        }
        return nil
    }

    /// decodeProtoValue decodes a google.protobuf.Value field, for which a
    /// JSON null is the value null rather than absence.
    public func decodeProtoValue(json: String, proto: String) throws -> JSONValue? {
        for name in json == proto ? [json] : [json, proto] where contains(ProtoJSONKey(name)) {
            return try decode(JSONValue.self, forKey: ProtoJSONKey(name))
        }
        return nil
    }
}

extension KeyedEncodingContainer where Key == ProtoJSONKey {
    public mutating func encodeProto<T: ProtoJSONCodable>(_ value: T, _ key: String) throws {
        try encode(ProtoJSONBox(value), forKey: ProtoJSONKey(key))
    }

    public mutating func encodeProtoArray<T: ProtoJSONCodable>(_ value: [T], _ key: String) throws {
        try encode(value.map { ProtoJSONBox($0) }, forKey: ProtoJSONKey(key))
    }

    public mutating func encodeProtoMap<K: ProtoMapKey, V: ProtoJSONCodable>(_ value: [K: V], _ key: String) throws {
        var out: [String: ProtoJSONBox<V>] = [:]
        for (k, v) in value {
            out[k.protoMapKey] = ProtoJSONBox(v)
        }
        try encode(out, forKey: ProtoJSONKey(key))
    }
}

/// ProtoIndirect stores a field on the heap, so a message may contain
/// itself (directly or through others) and stay a value type.
@propertyWrapper
public struct ProtoIndirect<Value: Hashable & Sendable>: Hashable, Sendable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    public init(wrappedValue: Value) { box = Box(wrappedValue) }

    public var wrappedValue: Value {
        get { box.value }
        set { box = Box(newValue) }
    }

    public static func == (a: ProtoIndirect, b: ProtoIndirect) -> Bool { a.wrappedValue == b.wrappedValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(wrappedValue) }
}
