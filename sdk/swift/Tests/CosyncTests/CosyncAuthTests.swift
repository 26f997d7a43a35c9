import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Cosync

/// The session helper against recorded server answers.
final class CosyncAuthTests: XCTestCase {
    func helper(_ now: @escaping @Sendable () -> Date = { Date() }, store: SessionStore = MemorySessionStore()) -> CosyncAuth {
        CosyncAuth(baseURL: URL(string: "http://localhost:8080")!, appID: "app", urlSession: StubProtocol.session(),
                   store: store, now: now)
    }

    func testLoginKeepsTheSession() async throws {
        let ex = try Fixtures.exchange("login")
        StubProtocol.state.reset([ex.reply])
        let auth = helper()
        guard case .signedIn(let session) = try await auth.login(handle: "ann@example.com", password: "pw") else {
            return XCTFail("login did not sign in")
        }
        let kept = try await auth.currentSession()
        XCTAssertEqual(kept, session)
        XCTAssertEqual(session.user?.email, "ann@example.com")
    }

    func testSecondFactorChallenge() async throws {
        let challenge = try Fixtures.exchange("login-challenge")
        let complete = try Fixtures.exchange("complete-login")
        StubProtocol.state.reset([challenge.reply, complete.reply])
        let auth = helper()
        guard case .secondFactor(let c) = try await auth.login(handle: "ann@example.com", password: "pw") else {
            return XCTFail("login did not answer with a challenge")
        }
        XCTAssertEqual(c.method, .totp)
        let session = try await auth.completeLogin(c, code: "abcde-fghij")
        let kept = try await auth.currentSession()
        XCTAssertEqual(kept, session)
        let sent = StubProtocol.state.requests
        XCTAssertEqual(sent.count, 2)
        let body = try JSONDecoder().decode(AuthV1.CompleteLoginRequest.self, from: sent[1].1)
        XCTAssertEqual(body.loginToken, c.loginToken)
    }

    /// Many tasks asking for a token while it is about to expire cause one
    /// refresh, and all get the new token.
    func testRefreshIsSingleFlight() async throws {
        let login = try Fixtures.exchange("login")
        let refresh = try Fixtures.exchange("refresh-session")
        let old = try AuthV1.LoginResponse(jsonData: login.response)
        guard case .session(let session)? = old.result, let exp = session.expiresAt else {
            return XCTFail("login fixture has no session")
        }
        // The new session expires an hour after the clock's now, so no
        // caller that comes after the refresh starts another.
        var next = try AuthV1.RefreshSessionResponse(jsonData: refresh.response)
        next.session?.expiresAt = ProtoTimestamp(date: exp.date.addingTimeInterval(3600))
        StubProtocol.state.reset([StubReply(status: 200, body: try next.jsonData())])
        // The clock says the token expires in 10 s, inside the 60 s margin.
        let auth = helper({ exp.date.addingTimeInterval(-10) }, store: MemorySessionStore(session))
        let tokens = try await withThrowingTaskGroup(of: String.self, returning: [String].self) { group in
            for _ in 0..<20 {
                group.addTask { try await auth.accessToken() }
            }
            var out: [String] = []
            for try await t in group {
                out.append(t)
            }
            return out
        }
        XCTAssertEqual(StubProtocol.state.requests.count, 1, "refresh requests")
        XCTAssertEqual(Set(tokens), [next.session?.accessToken ?? "?"])
        let sent = try JSONDecoder().decode(AuthV1.RefreshSessionRequest.self, from: StubProtocol.state.requests[0].1)
        XCTAssertEqual(sent.refreshToken, session.refreshToken)
    }

    func testRefusedRefreshSignsOut() async throws {
        let login = try Fixtures.exchange("login")
        let refused = try Fixtures.exchange("get-user-no-token") // an unauthenticated answer
        let old = try AuthV1.LoginResponse(jsonData: login.response)
        guard case .session(let session)? = old.result else {
            return XCTFail("login fixture has no session")
        }
        StubProtocol.state.reset([refused.reply])
        let auth = helper(store: MemorySessionStore(session))
        do {
            try await auth.refresh()
            XCTFail("refresh succeeded")
        } catch let e as ConnectError {
            XCTAssertEqual(e.code, .unauthenticated)
        }
        let kept = try await auth.currentSession()
        XCTAssertNil(kept)
        do {
            _ = try await auth.accessToken()
            XCTFail("accessToken without a session succeeded")
        } catch let e as CosyncAuthError {
            XCTAssertEqual(e, .signedOut)
        }
    }
}
