// ProtoWellKnown.swift: the well-known types in their proto3 JSON forms.
// Written by protoc-gen-cosync-swift; do not edit.

import Foundation

/// ProtoTimestamp is google.protobuf.Timestamp: in JSON an RFC 3339 string
/// in UTC with 0, 3, 6 or 9 fractional digits ("2026-01-02T03:04:05.500Z").
/// It keeps seconds and nanoseconds exactly; `date` converts to Foundation.
public struct ProtoTimestamp: ProtoJSONCodable, Codable, Hashable, Comparable, Sendable {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64 = 0, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    public init(date: Date) {
        let t = date.timeIntervalSince1970
        var s = Int64(t.rounded(.down))
        var n = Int32(((t - Double(s)) * 1e9).rounded())
        if n >= 1_000_000_000 {
            s += 1
            n -= 1_000_000_000
        }
        self.init(seconds: s, nanos: n)
    }

    public var date: Date { Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9) }

    public static func < (a: ProtoTimestamp, b: ProtoTimestamp) -> Bool {
        (a.seconds, a.nanos) < (b.seconds, b.nanos)
    }

    public init(protoJSON decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let t = ProtoTimestamp(rfc3339: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 timestamp: \(s)")
        }
        self = t
    }

    public init(from decoder: any Decoder) throws { try self.init(protoJSON: decoder) }

    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rfc3339)
    }

    public func encode(to encoder: any Encoder) throws { try encodeProtoJSON(to: encoder) }

    /// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)".
    public init?(rfc3339 s: String) {
        let b = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20,
              let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45, let day = num(8, 2),
              b[10] == 84 || b[10] == 116,
              let hour = num(11, 2), b[13] == 58, let minute = num(14, 2), b[16] == 58, let second = num(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 {
                    nanos = nanos * 10 + Int64(b[i] - 48)
                    digits += 1
                }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 {
                nanos *= 10
            }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * 60 * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = ProtoTimestamp.daysFromCivil(year, month, day)
        self.init(seconds: days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos: Int32(nanos))
    }

    /// The JSON form, as Go's protojson writes it.
    public var rfc3339: String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rem = seconds - days * 86400
        let (y, m, d) = ProtoTimestamp.civilFromDays(days)
        var out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        out += pad(rem / 3600, 2) + ":" + pad(rem / 60 % 60, 2) + ":" + pad(rem % 60, 2)
        out += fraction(nanos)
        return out + "Z"
    }

    // Howard Hinnant's days_from_civil and civil_from_days (proleptic Gregorian).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// pad writes v in decimal with at least width digits.
private func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// fraction writes nanoseconds as Go's protojson does: nothing, or 3, 6
/// or 9 digits after a dot.
private func fraction(_ nanos: Int32) -> String {
    let n = Int64(abs(nanos))
    if n == 0 {
        return ""
    }
    if n % 1_000_000 == 0 {
        return "." + pad(n / 1_000_000, 3)
    }
    if n % 1000 == 0 {
        return "." + pad(n / 1000, 6)
    }
    return "." + pad(n, 9)
}

/// ProtoDuration is google.protobuf.Duration: in JSON a decimal number of
/// seconds with an "s" suffix ("3600s", "1.500s", "-0.000000001s").
public struct ProtoDuration: ProtoJSONCodable, Codable, Hashable, Comparable, Sendable {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64 = 0, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    public init(timeInterval: TimeInterval) {
        let s = Int64(timeInterval.rounded(.towardZero))
        self.init(seconds: s, nanos: Int32(((timeInterval - Double(s)) * 1e9).rounded()))
    }

    public var timeInterval: TimeInterval { Double(seconds) + Double(nanos) / 1e9 }

    public static func < (a: ProtoDuration, b: ProtoDuration) -> Bool {
        (a.seconds, a.nanos) < (b.seconds, b.nanos)
    }

    public init(protoJSON decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = ProtoDuration(jsonString: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a duration: \(s)")
        }
        self = d
    }

    public init(from decoder: any Decoder) throws { try self.init(protoJSON: decoder) }

    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(jsonString)
    }

    public func encode(to encoder: any Encoder) throws { try encodeProtoJSON(to: encoder) }

    /// Parses "[-]seconds[.fraction]s".
    public init?(jsonString s: String) {
        guard s.hasSuffix("s") else { return nil }
        var body = Substring(s.dropLast())
        let negative = body.hasPrefix("-")
        if negative {
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              let secs = Int64(whole)
        else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.count <= 9, frac.allSatisfy({ $0.isASCII && $0.isNumber }), let f = Int64(frac) else { return nil }
            nanos = f
            for _ in frac.count..<9 {
                nanos *= 10
            }
        }
        self.init(seconds: negative ? -secs : secs, nanos: Int32(negative ? -nanos : nanos))
    }

    /// The JSON form, as Go's protojson writes it.
    public var jsonString: String {
        let negative = seconds < 0 || nanos < 0
        return (negative ? "-" : "") + String(abs(seconds)) + fraction(nanos) + "s"
    }
}

/// ProtoFieldMask is google.protobuf.FieldMask. Paths are proto field names
/// ("settings.signup_flow"); JSON joins them with commas in lowerCamelCase
/// ("settings.signupFlow").
public struct ProtoFieldMask: ProtoJSONCodable, Codable, Hashable, Sendable, ExpressibleByArrayLiteral {
    public var paths: [String]

    public init(paths: [String] = []) { self.paths = paths }
    public init(arrayLiteral paths: String...) { self.paths = paths }

    public init(protoJSON decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        paths = s.isEmpty ? [] : s.split(separator: ",").map { ProtoFieldMask.snakeCase(String($0)) }
    }

    public init(from decoder: any Decoder) throws { try self.init(protoJSON: decoder) }

    public func encodeProtoJSON(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(paths.map(ProtoFieldMask.camelCase).joined(separator: ","))
    }

    public func encode(to encoder: any Encoder) throws { try encodeProtoJSON(to: encoder) }

    static func camelCase(_ path: String) -> String {
        var out = ""
        var upper = false
        for ch in path {
            if ch == "_" {
                upper = true
            } else if upper {
                out += ch.uppercased()
                upper = false
            } else {
                out.append(ch)
            }
        }
        return out
    }

    static func snakeCase(_ path: String) -> String {
        var out = ""
        for ch in path {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }
}

/// JSONValue is google.protobuf.Value: any JSON value.
public indirect enum JSONValue: ProtoJSONCodable, Codable, Hashable, Sendable,
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(stringLiteral v: String) { self = .string(v) }
    public init(integerLiteral v: Int) { self = .number(Double(v)) }
    public init(floatLiteral v: Double) { self = .number(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral v: JSONValue...) { self = .array(v) }
    public init(dictionaryLiteral v: (String, JSONValue)...) { self = .object(Dictionary(v, uniquingKeysWith: { _, last in last })) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Double.self) {
            self = .number(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([JSONValue].self) {
            self = .array(v)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .number(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    public init(protoJSON decoder: any Decoder) throws { try self.init(from: decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encode(to: encoder) }

    /// The value under key when this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self {
            return o[key]
        }
        return nil
    }
}

/// ProtoStruct is google.protobuf.Struct: a JSON object.
public struct ProtoStruct: ProtoJSONCodable, Codable, Hashable, Sendable, ExpressibleByDictionaryLiteral {
    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue] = [:]) { self.fields = fields }
    public init(dictionaryLiteral v: (String, JSONValue)...) { fields = Dictionary(v, uniquingKeysWith: { _, last in last }) }

    public subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { fields[key] = newValue }
    }

    public init(from decoder: any Decoder) throws { fields = try decoder.singleValueContainer().decode([String: JSONValue].self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(fields)
    }

    public init(protoJSON decoder: any Decoder) throws { try self.init(from: decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encode(to: encoder) }
}

/// ProtoListValue is google.protobuf.ListValue: a JSON array.
public struct ProtoListValue: ProtoJSONCodable, Codable, Hashable, Sendable, ExpressibleByArrayLiteral {
    public var values: [JSONValue]

    public init(values: [JSONValue] = []) { self.values = values }
    public init(arrayLiteral v: JSONValue...) { values = v }

    public init(from decoder: any Decoder) throws { values = try decoder.singleValueContainer().decode([JSONValue].self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }

    public init(protoJSON decoder: any Decoder) throws { try self.init(from: decoder) }
    public func encodeProtoJSON(to encoder: any Encoder) throws { try encode(to: encoder) }
}

/// ProtoEmpty is google.protobuf.Empty: `{}`.
public struct ProtoEmpty: ProtoMessage {
    public static let protoMessageName = "google.protobuf.Empty"
    public init() {}
    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: ProtoJSONKey.self)
    }
}
