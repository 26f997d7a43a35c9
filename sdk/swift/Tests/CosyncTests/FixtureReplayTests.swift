import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Cosync

/// Replays what the Go tests recorded from the real server (and every
/// message with every field set) through the generated models and clients.
final class FixtureReplayTests: XCTestCase {
    static let messageTypes: [String: any ProtoMessage.Type] = {
        var out: [String: any ProtoMessage.Type] = [:]
        for t in AuthV1.messageTypes + AdminV1.messageTypes {
            out[t.protoMessageName] = t
        }
        return out
    }()

    static let methods: [String: ConnectMethod] = {
        var out: [String: ConnectMethod] = [:]
        for m in AuthV1.AuthServiceClient.methods + AdminV1.AdminServiceClient.methods {
            out[m.path] = m
        }
        return out
    }()

    /// Each message decodes from the server's JSON and encodes back to the
    /// same JSON: same keys, same value forms, defaults omitted.
    func testMessagesRoundTrip() throws {
        let fixtures = try Fixtures.load("messages.json")
        XCTAssertGreaterThan(fixtures.count, 100)
        for f in fixtures {
            let name = f["message"] as? String ?? ""
            let label = name + (f["variant"].map { "#\($0)" } ?? "")
            guard let type = FixtureReplayTests.messageTypes[name] else {
                XCTFail("\(label): no Swift type")
                continue
            }
            let json = try Fixtures.data(f["json"])
            assertSameJSON(try reencode(type, json), json, label)
        }
    }

    /// Each recorded call, sent through the generated transport: the request
    /// goes out as recorded (path, headers, body) and the answer decodes,
    /// re-encoding to what the server sent, or throws the recorded error.
    func testExchangesReplay() async throws {
        let exchanges = try Fixtures.load("exchanges.json").map(Exchange.init)
        XCTAssertGreaterThan(exchanges.count, 10)
        for ex in exchanges {
            guard let method = FixtureReplayTests.methods[ex.path] else {
                XCTFail("\(ex.name): no generated method for \(ex.path)")
                continue
            }
            StubProtocol.state.reset([ex.reply])
            let transport = ConnectTransport(baseURL: URL(string: "http://localhost:8080")!, appID: ex.appID,
                                             urlSession: StubProtocol.session())
            try await replay(method.requestType, method.responseType, ex, transport)

            let sent = StubProtocol.state.requests
            XCTAssertEqual(sent.count, 1, ex.name)
            guard let first = sent.first else {
                continue
            }
            let (req, body) = first
            XCTAssertEqual(req.httpMethod, "POST", ex.name)
            XCTAssertEqual(req.url?.absoluteString, "http://localhost:8080" + ex.path, ex.name)
            XCTAssertEqual(req.value(forHTTPHeaderField: "Content-Type"), "application/json", ex.name)
            XCTAssertEqual(req.value(forHTTPHeaderField: "Connect-Protocol-Version"), "1", ex.name)
            XCTAssertEqual(req.value(forHTTPHeaderField: "Cosync-App-Id"), ex.appID.isEmpty ? nil : ex.appID, ex.name)
            XCTAssertEqual(req.value(forHTTPHeaderField: "Authorization"), ex.bearer.isEmpty ? nil : "Bearer " + ex.bearer, ex.name)
            assertSameJSON(body, ex.request, ex.name + " request")
        }
    }

    func replay<Request: ProtoMessage, Response: ProtoMessage>(
        _ req: Request.Type, _ res: Response.Type, _ ex: Exchange, _ transport: ConnectTransport
    ) async throws {
        let request = try JSONDecoder().decode(Request.self, from: ex.request)
        do {
            let options = ConnectCallOptions(bearerToken: ex.bearer.isEmpty ? nil : ex.bearer)
            let response: Response = try await transport.unary(ex.path, request, options: options)
            XCTAssertEqual(ex.status, 200, "\(ex.name) succeeded")
            assertSameJSON(try JSONEncoder().encode(response), ex.response, ex.name + " response")
        } catch let e as ConnectError {
            XCTAssertNotEqual(ex.status, 200, "\(ex.name): \(e)")
            XCTAssertEqual(e.httpStatus, ex.status, ex.name)
            XCTAssertEqual(e.code.rawValue, ex.errorCode, ex.name)
            XCTAssertEqual(e.reason ?? "", ex.errorReason ?? "", ex.name)
            XCTAssertEqual(e.fieldViolations.map { $0.field }, ex.fieldViolations, ex.name)
        }
    }

    func reencode<T: ProtoMessage>(_ type: T.Type, _ json: Data) throws -> Data {
        try JSONEncoder().encode(try JSONDecoder().decode(T.self, from: json))
    }

    func testTypedReason() async throws {
        let ex = try Fixtures.exchange("login-wrong-password")
        StubProtocol.state.reset([ex.reply])
        let client = AuthV1.AuthServiceClient(transport: ConnectTransport(
            baseURL: URL(string: "http://localhost:8080")!, appID: ex.appID, urlSession: StubProtocol.session()))
        do {
            _ = try await client.login(AuthV1.LoginRequest(handle: "ann@example.com", password: "not it"))
            XCTFail("Login with a wrong password succeeded")
        } catch let e as ConnectError {
            XCTAssertEqual(e.code, .unauthenticated)
            XCTAssertEqual(e.errorReason, .invalidCredentials)
            XCTAssertEqual(e.domain, "cosync.auth")
        }
    }
}
