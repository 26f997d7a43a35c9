// Connect.swift: Connect unary calls over URLSession with JSON, and the
// errors they raise. Written by protoc-gen-cosync-swift; do not edit.
// Protocol: https://connectrpc.com/docs/protocol/

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// ConnectCode is a Connect (and gRPC) status code.
public enum ConnectCode: String, Sendable, Hashable, Codable {
    case canceled
    case unknown
    case invalidArgument = "invalid_argument"
    case deadlineExceeded = "deadline_exceeded"
    case notFound = "not_found"
    case alreadyExists = "already_exists"
    case permissionDenied = "permission_denied"
    case resourceExhausted = "resource_exhausted"
    case failedPrecondition = "failed_precondition"
    case aborted
    case outOfRange = "out_of_range"
    case unimplemented
    case `internal`
    case unavailable
    case dataLoss = "data_loss"
    case unauthenticated

    /// The code a client infers from an HTTP status when the body carries
    /// none, as the Connect protocol specifies.
    public init(httpStatus: Int) {
        switch httpStatus {
        case 400: self = .internal
        case 401: self = .unauthenticated
        case 403: self = .permissionDenied
        case 404: self = .unimplemented
        case 429, 502, 503, 504: self = .unavailable
        default: self = .unknown
        }
    }
}

/// ConnectError is what every generated call throws when it does not
/// succeed: the Connect code, the server's message, and the machine reason
/// of its google.rpc.ErrorInfo detail. Branch on `code` and `reason`, never
/// on `message`.
public struct ConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// FieldViolation names one bad request field (google.rpc.BadRequest).
    public struct FieldViolation: Sendable, Hashable {
        public var field: String
        public var description: String
        public init(field: String, description: String) {
            self.field = field
            self.description = description
        }
    }

    /// Detail is one error detail as sent: its type name, the binary
    /// protobuf value, and the JSON debug form when the server added it.
    public struct Detail: Sendable, Hashable {
        public var type: String
        public var value: Data
        public var debug: JSONValue?
    }

    public var code: ConnectCode
    public var message: String
    /// ErrorInfo.reason, e.g. "INVALID_CODE"; nil when the server sent none.
    public var reason: String?
    /// ErrorInfo.domain, e.g. "cosync.auth".
    public var domain: String?
    /// ErrorInfo.metadata, e.g. "retry_after_seconds".
    public var metadata: [String: String]
    public var fieldViolations: [FieldViolation]
    /// RetryInfo.retry_delay, when the server asked the client to wait.
    public var retryDelay: ProtoDuration?
    public var details: [Detail]
    /// The HTTP status of the response; 0 when none arrived.
    public var httpStatus: Int

    public init(code: ConnectCode, message: String, reason: String? = nil, domain: String? = nil,
                metadata: [String: String] = [:], fieldViolations: [FieldViolation] = [],
                retryDelay: ProtoDuration? = nil, details: [Detail] = [], httpStatus: Int = 0) {
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata = metadata
        self.fieldViolations = fieldViolations
        self.retryDelay = retryDelay
        self.details = details
        self.httpStatus = httpStatus
    }

    /// Reads a Connect error response body; bodies that are not Connect
    /// JSON give the code the HTTP status implies.
    public init(httpStatus: Int, body: Data) {
        self.init(code: ConnectCode(httpStatus: httpStatus), message: HTTPURLResponse.localizedString(forStatusCode: httpStatus), httpStatus: httpStatus)
        guard let wire = try? JSONDecoder().decode(WireError.self, from: body) else {
            return
        }
        if let c = wire.code, let code = ConnectCode(rawValue: c) {
            self.code = code
        }
        message = wire.message ?? ""
        for d in wire.details ?? [] {
            guard let type = d.type, let value = d.value.flatMap(ConnectError.base64) else {
                continue
            }
            details.append(Detail(type: type, value: value, debug: d.debug))
            switch type {
            case "google.rpc.ErrorInfo":
                let info = ProtoWire.errorInfo(value)
                reason = info.reason
                domain = info.domain
                metadata = info.metadata
            case "google.rpc.BadRequest":
                fieldViolations += ProtoWire.fieldViolations(value)
            case "google.rpc.RetryInfo":
                retryDelay = ProtoWire.retryDelay(value)
            case "buf.validate.Violations":
                // What the protovalidate interceptor sends for bad input.
                fieldViolations += ProtoWire.validateViolations(value)
            default:
                break
            }
        }
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let reason = reason {
            s += " (\(reason))"
        }
        return s
    }

    private struct WireError: Decodable {
        var code: String?
        var message: String?
        var details: [WireDetail]?
    }

    private struct WireDetail: Decodable {
        var type: String?
        var value: String?
        var debug: JSONValue?
    }

    /// Connect sends detail values in standard base64 without padding.
    static func base64(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 {
            t += "="
        }
        return Data(base64Encoded: t)
    }
}

/// ProtoWire reads the few binary protobuf messages error details carry.
enum ProtoWire {
    /// fields returns (field number, wire type, varint value, bytes) for
    /// each field of a message; it stops at the first malformed byte.
    static func fields(_ data: Data) -> [(Int, Int, UInt64, Data)] {
        let b = [UInt8](data)
        var out: [(Int, Int, UInt64, Data)] = []
        var i = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while i < b.count, shift < 64 {
                let byte = b[i]
                i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    return v
                }
                shift += 7
            }
            return nil
        }
        while i < b.count {
            guard let key = varint() else { break }
            let number = Int(key >> 3)
            let wireType = Int(key & 7)
            switch wireType {
            case 0:
                guard let v = varint() else { return out }
                out.append((number, 0, v, Data()))
            case 1:
                guard i + 8 <= b.count else { return out }
                i += 8
            case 2:
                guard let n = varint(), n <= UInt64(b.count - i) else { return out }
                out.append((number, 2, 0, Data(b[i..<(i + Int(n))])))
                i += Int(n)
            case 5:
                guard i + 4 <= b.count else { return out }
                i += 4
            default:
                return out
            }
        }
        return out
    }

    static func string(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }

    static func errorInfo(_ data: Data) -> (reason: String?, domain: String?, metadata: [String: String]) {
        var reason: String?
        var domain: String?
        var metadata: [String: String] = [:]
        for (number, wireType, _, bytes) in fields(data) where wireType == 2 {
            switch number {
            case 1: reason = string(bytes)
            case 2: domain = string(bytes)
            case 3:
                var k = ""
                var v = ""
                for (n, w, _, b) in fields(bytes) where w == 2 {
                    if n == 1 { k = string(b) } else if n == 2 { v = string(b) }
                }
                metadata[k] = v
            default: break
            }
        }
        return (reason, domain, metadata)
    }

    static func fieldViolations(_ data: Data) -> [ConnectError.FieldViolation] {
        var out: [ConnectError.FieldViolation] = []
        for (number, wireType, _, bytes) in fields(data) where number == 1 && wireType == 2 {
            var v = ConnectError.FieldViolation(field: "", description: "")
            for (n, w, _, b) in fields(bytes) where w == 2 {
                if n == 1 { v.field = string(b) } else if n == 2 { v.description = string(b) }
            }
            out.append(v)
        }
        return out
    }

    /// validateViolations reads buf.validate.Violations: each Violation's
    /// field path (FieldPath.elements[].field_name joined with dots, or the
    /// older field_path string) and message.
    static func validateViolations(_ data: Data) -> [ConnectError.FieldViolation] {
        var out: [ConnectError.FieldViolation] = []
        for (number, wireType, _, bytes) in fields(data) where number == 1 && wireType == 2 {
            var v = ConnectError.FieldViolation(field: "", description: "")
            var names: [String] = []
            for (n, w, _, b) in fields(bytes) where w == 2 {
                switch n {
                case 1: v.field = string(b)
                case 3: v.description = string(b)
                case 5:
                    for (en, ew, _, eb) in fields(b) where en == 1 && ew == 2 {
                        for (pn, pw, _, pb) in fields(eb) where pn == 2 && pw == 2 {
                            names.append(string(pb))
                        }
                    }
                default: break
                }
            }
            if !names.isEmpty {
                v.field = names.joined(separator: ".")
            }
            out.append(v)
        }
        return out
    }

    static func retryDelay(_ data: Data) -> ProtoDuration? {
        for (number, wireType, _, bytes) in fields(data) where number == 1 && wireType == 2 {
            var d = ProtoDuration()
            for (n, w, v, _) in fields(bytes) where w == 0 {
                if n == 1 { d.seconds = Int64(bitPattern: v) } else if n == 2 { d.nanos = Int32(truncatingIfNeeded: Int64(bitPattern: v)) }
            }
            return d
        }
        return nil
    }
}

/// ConnectCallOptions adjusts one call.
public struct ConnectCallOptions: Sendable {
    /// Extra request headers; they replace the transport's of the same name.
    public var headers: [String: String]
    /// The bearer token for this call, instead of the transport's provider.
    public var bearerToken: String?
    /// A deadline sent as Connect-Timeout-Ms and enforced by URLSession.
    public var timeout: TimeInterval?

    public init(headers: [String: String] = [:], bearerToken: String? = nil, timeout: TimeInterval? = nil) {
        self.headers = headers
        self.bearerToken = bearerToken
        self.timeout = timeout
    }
}

/// ConnectMethod describes one generated RPC, for tools and tests.
public struct ConnectMethod: Sendable {
    /// "/package.Service/Method".
    public let path: String
    public let requestType: any ProtoMessage.Type
    public let responseType: any ProtoMessage.Type

    public init(path: String, requestType: any ProtoMessage.Type, responseType: any ProtoMessage.Type) {
        self.path = path
        self.requestType = requestType
        self.responseType = responseType
    }
}

/// ConnectTransport sends Connect unary calls with JSON bodies (POST
/// `/{package}.{Service}/{Method}`) to one server for one application. It
/// holds no mutable state and is safe to share.
public struct ConnectTransport: Sendable {
    public let baseURL: URL
    /// Sent as `Cosync-App-Id` on every call; empty sends none.
    public let appID: String
    public let urlSession: URLSession
    /// Headers sent on every call.
    public let headers: [String: String]
    /// Supplies the bearer token of calls that set none; nil sends none.
    public let bearerToken: (@Sendable () async throws -> String?)?

    public init(baseURL: URL, appID: String, urlSession: URLSession = .shared, headers: [String: String] = [:],
                bearerToken: (@Sendable () async throws -> String?)? = nil) {
        self.baseURL = baseURL
        self.appID = appID
        self.urlSession = urlSession
        self.headers = headers
        self.bearerToken = bearerToken
    }

    /// unary sends one request and decodes the response, throwing
    /// ConnectError for every failure (network ones as `unavailable`).
    public func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ path: String, _ request: Request, options: ConnectCallOptions = ConnectCallOptions()
    ) async throws -> Response {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") {
            base.removeLast()
        }
        guard let url = URL(string: base + path) else {
            throw ConnectError(code: .invalidArgument, message: "bad URL \(base + path)")
        }
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.setValue("1", forHTTPHeaderField: "Connect-Protocol-Version")
        if !appID.isEmpty {
            req.setValue(appID, forHTTPHeaderField: "Cosync-App-Id")
        }
        var token = options.bearerToken
        if token == nil, let provider = bearerToken {
            token = try await provider()
        }
        if let token = token, !token.isEmpty {
            req.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        }
        if let timeout = options.timeout {
            req.timeoutInterval = timeout
            req.setValue(String(Int64((timeout * 1000).rounded(.up))), forHTTPHeaderField: "Connect-Timeout-Ms")
        }
        for (k, v) in headers {
            req.setValue(v, forHTTPHeaderField: k)
        }
        for (k, v) in options.headers {
            req.setValue(v, forHTTPHeaderField: k)
        }
        do {
            req.httpBody = try JSONEncoder().encode(request)
        } catch {
            throw ConnectError(code: .internal, message: "encode \(Request.protoMessageName): \(error)")
        }
        let (data, response) = try await send(req)
        guard let http = response as? HTTPURLResponse else {
            throw ConnectError(code: .unknown, message: "not an HTTP response")
        }
        guard http.statusCode == 200 else {
            throw ConnectError(httpStatus: http.statusCode, body: data)
        }
        do {
            return try JSONDecoder().decode(Response.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw ConnectError(code: .internal, message: "decode \(Response.protoMessageName): \(error)", httpStatus: 200)
        }
    }

    private func send(_ req: URLRequest) async throws -> (Data, URLResponse) {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<(Data, URLResponse), Error>) in
            let task = urlSession.dataTask(with: req) { data, response, error in
                if let error = error {
                    cont.resume(throwing: ConnectTransport.connectError(error))
                } else if let response = response {
                    cont.resume(returning: (data ?? Data(), response))
                } else {
                    cont.resume(throwing: ConnectError(code: .unknown, message: "no response"))
                }
            }
            task.resume()
        }
    }

    static func connectError(_ error: Error) -> ConnectError {
        if let u = error as? URLError {
            switch u.code {
            case .cancelled: return ConnectError(code: .canceled, message: u.localizedDescription)
            case .timedOut: return ConnectError(code: .deadlineExceeded, message: u.localizedDescription)
            default: return ConnectError(code: .unavailable, message: u.localizedDescription)
            }
        }
        return ConnectError(code: .unknown, message: "\(error)")
    }
}
