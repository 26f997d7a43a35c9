import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Cosync

/// StubReply is one canned HTTP answer.
struct StubReply {
    var status: Int
    var body: Data
}

/// StubState holds the replies a StubProtocol gives, in order, and the
/// requests it saw (with their bodies, which URLSession moves to a stream).
final class StubState: @unchecked Sendable {
    private let lock = NSLock()
    private var replies: [StubReply] = []
    private var seen: [(URLRequest, Data)] = []

    func reset(_ replies: [StubReply]) {
        lock.lock()
        defer { lock.unlock() }
        self.replies = replies
        seen = []
    }

    func take(_ request: URLRequest, _ body: Data) -> StubReply {
        lock.lock()
        defer { lock.unlock() }
        seen.append((request, body))
        if replies.isEmpty {
            let err = #"{"code":"internal","message":"stub: no reply queued"}"#
            return StubReply(status: 500, body: Data(err.utf8))
        }
        return replies.removeFirst()
    }

    var requests: [(URLRequest, Data)] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }
}

/// StubProtocol answers every request of a session configured with it from
/// `StubProtocol.state`.
final class StubProtocol: URLProtocol {
    static let state = StubState()

    override class func canInit(with request: URLRequest) -> Bool { true }
    override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

    override func startLoading() {
        let reply = StubProtocol.state.take(request, StubProtocol.body(of: request))
        let url = request.url ?? URL(fileURLWithPath: "/")
        let response = HTTPURLResponse(url: url, statusCode: reply.status, httpVersion: "HTTP/1.1",
                                       headerFields: ["Content-Type": "application/json"])
        if let response = response {
            client?.urlProtocol(self, didReceive: response, cacheStoragePolicy: .notAllowed)
        }
        client?.urlProtocol(self, didLoad: reply.body)
        client?.urlProtocolDidFinishLoading(self)
    }

    override func stopLoading() {}

    static func body(of request: URLRequest) -> Data {
        if let body = request.httpBody {
            return body
        }
        guard let stream = request.httpBodyStream else {
            return Data()
        }
        stream.open()
        defer { stream.close() }
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while stream.hasBytesAvailable {
            let n = stream.read(&buf, maxLength: buf.count)
            if n <= 0 {
                break
            }
            out.append(buf, count: n)
        }
        return out
    }

    /// A URLSession whose every request this protocol answers.
    static func session() -> URLSession {
        let config = URLSessionConfiguration.ephemeral
        config.protocolClasses = [StubProtocol.self]
        return URLSession(configuration: config)
    }
}

/// Fixtures reads the JSON files the Go tests record (internal/swiftgen).
enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func load(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CosyncAuthError.missing(name)
        }
        return list
    }

    static func data(_ value: Any?) throws -> Data {
        try JSONSerialization.data(withJSONObject: value ?? [String: Any](), options: [.fragmentsAllowed])
    }

    /// The exchange recorded under name in exchanges.json.
    static func exchange(_ name: String) throws -> Exchange {
        for e in try load("exchanges.json") where e["name"] as? String == name {
            return try Exchange(e)
        }
        throw CosyncAuthError.missing(name)
    }
}

/// Exchange is one recorded call to the real server.
struct Exchange {
    var name: String
    var path: String
    var appID: String
    var bearer: String
    var request: Data
    var status: Int
    var response: Data
    var errorCode: String?
    var errorReason: String?
    var fieldViolations: [String]

    init(_ e: [String: Any]) throws {
        name = e["name"] as? String ?? ""
        path = e["path"] as? String ?? ""
        appID = e["appId"] as? String ?? ""
        bearer = e["bearer"] as? String ?? ""
        request = try Fixtures.data(e["request"])
        status = e["status"] as? Int ?? 0
        response = try Fixtures.data(e["response"])
        let err = e["error"] as? [String: Any]
        errorCode = err?["code"] as? String
        errorReason = err?["reason"] as? String
        fieldViolations = err?["fieldViolations"] as? [String] ?? []
    }

    var reply: StubReply { StubReply(status: status, body: response) }
}

/// canonicalJSON re-serializes a JSON document with sorted keys, so two
/// documents with the same values compare equal as text.
func canonicalJSON(_ d: Data) -> String? {
    guard let v = try? JSONSerialization.jsonObject(with: d, options: [.fragmentsAllowed]),
          let out = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])
    else { return nil }
    return String(decoding: out, as: UTF8.self)
}

/// assertSameJSON compares two JSON documents by value, not by spelling.
func assertSameJSON(_ a: Data, _ b: Data, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let x = canonicalJSON(a), let y = canonicalJSON(b) else {
        XCTFail("\(message): not JSON", file: file, line: line)
        return
    }
    XCTAssertEqual(x, y, message, file: file, line: line)
}
