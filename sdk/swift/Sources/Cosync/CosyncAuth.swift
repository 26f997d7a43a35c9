// CosyncAuth.swift: the hand-written session helper on top of the generated
// AuthService client.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// SessionStore keeps a user's session between launches. Keep sessions in
/// the Keychain in an app: they hold a refresh token. Implementations must
/// be safe to call from any task.
public protocol SessionStore: Sendable {
    func load() async throws -> AuthV1.Session?
    /// Saves the session, or forgets it when nil.
    func save(_ session: AuthV1.Session?) async throws
}

/// MemorySessionStore keeps the session in memory only: signed out at the
/// next launch. It is the default store.
public actor MemorySessionStore: SessionStore {
    private var session: AuthV1.Session?

    public init(_ session: AuthV1.Session? = nil) { self.session = session }

    public func load() -> AuthV1.Session? { session }

    public func save(_ session: AuthV1.Session?) { self.session = session }
}

/// LoginResult is what a sign-in answers: a session, or a second-factor
/// challenge to answer with `completeLogin`.
public enum LoginResult: Sendable, Hashable {
    case signedIn(AuthV1.Session)
    case secondFactor(AuthV1.Challenge)
}

/// CosyncAuthError is what CosyncAuth throws besides ConnectError.
public enum CosyncAuthError: Error, Sendable, Hashable {
    /// There is no session: sign in first.
    case signedOut
    /// The server answered a call without the session or user it promises.
    case missing(String)
}

/// CosyncAuth signs one user in to one application and keeps the session:
/// it stores it, hands out an access token that is fresh for at least
/// `refreshMargin` seconds, and refreshes with a single request however
/// many tasks ask at once. It is an actor, safe to share.
///
///     let auth = CosyncAuth(baseURL: URL(string: "https://auth.example.com")!, appID: "app_123")
///     switch try await auth.login(handle: "ann@example.com", password: "correct horse") {
///     case .signedIn(let session): print(session.user?.email ?? "")
///     case .secondFactor(let challenge): _ = try await auth.completeLogin(challenge, code: "123456")
///     }
public actor CosyncAuth {
    /// The generated AuthService client, for calls the helper does not wrap;
    /// pass `ConnectCallOptions(bearerToken: try await auth.accessToken())`.
    public nonisolated let client: AuthV1.AuthServiceClient
    private let store: SessionStore
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var session: AuthV1.Session?
    private var loaded = false
    private var refreshing: Task<AuthV1.Session, Error>?

    /// Creates a helper for the application appID at baseURL. The store
    /// defaults to memory; now (for tests) to the system clock.
    public init(baseURL: URL, appID: String, urlSession: URLSession = .shared,
                store: SessionStore = MemorySessionStore(), refreshMargin: TimeInterval = 60,
                now: @escaping @Sendable () -> Date = { Date() }) {
        client = AuthV1.AuthServiceClient(transport: ConnectTransport(baseURL: baseURL, appID: appID, urlSession: urlSession))
        self.store = store
        self.refreshMargin = refreshMargin
        self.now = now
    }

    /// The current session, read from the store on first use; nil when
    /// signed out.
    public func currentSession() async throws -> AuthV1.Session? {
        if !loaded {
            session = try await store.load()
            loaded = true
        }
        return session
    }

    /// Starts a signup. With the code or link flow the answer has no
    /// session (check your mail, then `completeSignUp`); with flow none the
    /// session is kept.
    public func signUp(handle: String, password: String, metadata: ProtoStruct? = nil, locale: String = "") async throws -> AuthV1.SignUpResponse {
        let res = try await client.signUp(AuthV1.SignUpRequest(handle: handle, password: password, metadata: metadata, locale: locale))
        if let s = res.session {
            try await keep(s)
        }
        return res
    }

    /// Confirms the mailed code and keeps the session.
    public func completeSignUp(handle: String, code: String) async throws -> AuthV1.Session {
        let res = try await client.completeSignUp(AuthV1.CompleteSignUpRequest(handle: handle, code: code))
        return try await keep(res.session, "CompleteSignUp")
    }

    /// Checks a password: the session is kept, or a challenge comes back
    /// when the user has a second factor.
    public func login(handle: String, password: String) async throws -> LoginResult {
        let res = try await client.login(AuthV1.LoginRequest(handle: handle, password: password))
        switch res.result {
        case .session(let s)?:
            return .signedIn(try await keep(s, "Login"))
        case .challenge(let c)?:
            return .secondFactor(c)
        case nil:
            throw CosyncAuthError.missing("Login")
        }
    }

    /// Answers a challenge with a TOTP or SMS code or a recovery code.
    public func completeLogin(_ challenge: AuthV1.Challenge, code: String) async throws -> AuthV1.Session {
        let res = try await client.completeLogin(AuthV1.CompleteLoginRequest(loginToken: challenge.loginToken, code: code))
        return try await keep(res.session, "CompleteLogin")
    }

    /// Signs in as a new anonymous user.
    public func loginAnonymous() async throws -> AuthV1.Session {
        let res = try await client.loginAnonymous()
        return try await keep(res.session, "LoginAnonymous")
    }

    /// Signs in (or up, where the application allows) with an Apple or
    /// Google ID token.
    public func socialLogin(provider: AuthV1.Provider, idToken: String, nonce: String = "") async throws -> LoginResult {
        let res = try await client.socialLogin(AuthV1.SocialLoginRequest(provider: provider, idToken: idToken, nonce: nonce))
        switch res.result {
        case .session(let s)?:
            return .signedIn(try await keep(s, "SocialLogin"))
        case .challenge(let c)?:
            return .secondFactor(c)
        case nil:
            throw CosyncAuthError.missing("SocialLogin")
        }
    }

    /// An access token valid for at least `refreshMargin` seconds,
    /// refreshing first when needed.
    public func accessToken() async throws -> String {
        guard let s = try await currentSession() else {
            throw CosyncAuthError.signedOut
        }
        if let exp = s.expiresAt, exp.date.timeIntervalSince(now()) <= refreshMargin {
            return try await refresh().accessToken
        }
        return s.accessToken
    }

    /// Rotates the refresh token into a new session. Concurrent callers
    /// share one request (single flight). When the server refuses the
    /// refresh token (unauthenticated), the session is forgotten.
    @discardableResult
    public func refresh() async throws -> AuthV1.Session {
        if let task = refreshing {
            return try await task.value
        }
        guard let current = try await currentSession() else {
            throw CosyncAuthError.signedOut
        }
        if let task = refreshing { // another caller started one while the store loaded
            return try await task.value
        }
        let client = self.client
        let token = current.refreshToken
        let task = Task { () async throws -> AuthV1.Session in
            let res = try await client.refreshSession(AuthV1.RefreshSessionRequest(refreshToken: token))
            guard let next = res.session else {
                throw CosyncAuthError.missing("RefreshSession")
            }
            return next
        }
        refreshing = task
        do {
            let next = try await task.value
            // Set the session before clearing the flight, so no caller
            // starts a second refresh with the rotated token.
            session = next
            refreshing = nil
            try await store.save(next)
            return next
        } catch {
            refreshing = nil
            if let e = error as? ConnectError, e.code == .unauthenticated {
                try await forget()
            }
            throw error
        }
    }

    /// Runs a call with a fresh access token; when the server says the token
    /// expired anyway, it refreshes once and retries.
    ///
    ///     let res = try await auth.authorized { client, options in try await client.getUser(options: options) }
    public func authorized<T: Sendable>(_ call: @Sendable (AuthV1.AuthServiceClient, ConnectCallOptions) async throws -> T) async throws -> T {
        let token = try await accessToken()
        do {
            return try await call(client, ConnectCallOptions(bearerToken: token))
        } catch let e as ConnectError where e.code == .unauthenticated && e.errorReason == .tokenExpired {
            let next = try await refresh()
            return try await call(client, ConnectCallOptions(bearerToken: next.accessToken))
        }
    }

    /// The signed-in user, fresh from the server.
    public func user() async throws -> AuthV1.User {
        let res = try await authorized { client, options in try await client.getUser(options: options) }
        guard let u = res.user else {
            throw CosyncAuthError.missing("GetUser")
        }
        return u
    }

    /// Revokes the session on the server (all of the user's sessions with
    /// all) and forgets it here, even when the server cannot be reached.
    public func logout(all: Bool = false) async throws {
        let current = try await currentSession()
        if let s = current {
            _ = try? await client.logout(AuthV1.LogoutRequest(all: all), options: ConnectCallOptions(bearerToken: s.accessToken))
        }
        try await forget()
    }

    private func keep(_ s: AuthV1.Session) async throws {
        session = s
        loaded = true
        try await store.save(s)
    }

    private func keep(_ s: AuthV1.Session?, _ call: String) async throws -> AuthV1.Session {
        guard let s = s else {
            throw CosyncAuthError.missing(call)
        }
        try await keep(s)
        return s
    }

    private func forget() async throws {
        session = nil
        loaded = true
        try await store.save(nil)
    }
}

extension ConnectError {
    /// The reason as the contract's ErrorReason (`.invalidCode`,
    /// `.tokenExpired`, …); `.unspecified` when the error carries none, and
    /// `.unrecognized` for reasons newer than this SDK.
    public var errorReason: AuthV1.ErrorReason {
        guard let r = reason, !r.isEmpty else {
            return .unspecified
        }
        return AuthV1.ErrorReason(protoName: "ERROR_REASON_" + r)
    }
}
