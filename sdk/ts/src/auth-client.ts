// AuthClient: every AuthService call for one application, plus the session
// those calls produce — kept, refreshed before it expires, and sent along.
import { Code, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { reflect } from "@bufbuild/protobuf/reflect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { AuthService } from "./gen/cosync/auth/v1/auth_pb.js";
import { SessionSchema, type Session } from "./gen/cosync/auth/v1/types_pb.js";
import { ErrorReason } from "./gen/cosync/auth/v1/errors_pb.js";
import { CosyncError } from "./errors.js";
import { loadSession, memoryStorage, saveSession, sessionKey, type SessionStorage } from "./storage.js";
import { transport, type Fetch } from "./transport.js";

/** AuthClientOptions configure an {@link AuthClient}. */
export interface AuthClientOptions {
  /** Where the server is, e.g. "https://auth.example.com". */
  baseUrl: string;
  /** The application id, sent as the Cosync-App-Id header on every call. */
  appId: string;
  /**
   * Where the session is kept: memory by default (gone on reload). Pass
   * `localStorage` in a browser, AsyncStorage in React Native, or any
   * {@link SessionStorage}. The key is `cosync-auth:session:<appId>`.
   */
  storage?: SessionStorage;
  /** Replaces globalThis.fetch (tests, custom agents, instrumented fetch). */
  fetch?: Fetch;
  /** Refresh when the access token has fewer than this many seconds left; default 60. */
  refreshMarginSeconds?: number;
  /** The clock the expiry check reads; Date.now by default. For tests. */
  now?: () => number;
}

/** SessionListener hears every change of the kept session; undefined means signed out. */
export type SessionListener = (session: Session | undefined) => void;

// Calls that start a session (or need none) never carry the bearer, so they
// never wait for a refresh: signing in again must work whatever state the
// kept session is in. SignUp does carry it: an anonymous user signing up
// keeps their user id.
const sessionless = new Set<string>([
  "getApplication", "completeSignUp", "login", "completeLogin", "loginAnonymous",
  "socialLogin", "refreshSession", "forgotPassword", "resetPassword", "register",
]);

// Calls after which the kept session is over when they succeed.
const ending = new Set<string>(["logout", "deleteAccount"]);

// Refresh failures that mean the session is over, not that the network is.
const over = new Set<ErrorReason>([
  ErrorReason.REFRESH_TOKEN_INVALID, ErrorReason.REFRESH_TOKEN_REUSED, ErrorReason.REFRESH_TOKEN_EXPIRED,
  ErrorReason.SESSION_REVOKED, ErrorReason.ACCOUNT_SUSPENDED, ErrorReason.APP_NOT_FOUND, ErrorReason.APP_SUSPENDED,
]);

// Every AuthService method, typed from the generated descriptor: auth.login,
// auth.getUser, auth.beginTotpEnrollment, … take the request message (or an
// object literal of its fields) and resolve to the response message.
export interface AuthClient extends Client<typeof AuthService> {}

/**
 * AuthClient talks to the AuthService of one application and keeps the
 * user's session. It exposes every AuthService call (`auth.login(…)`,
 * `auth.getUser({})`, …); calls that answer a session (SignUp with flow none,
 * CompleteSignUp, Login, CompleteLogin, LoginAnonymous, SocialLogin, Register,
 * ChangePassword, RefreshSession) store it, later calls send its access token,
 * and a token about to expire is refreshed first — once, however many calls
 * wait for it. Logout and DeleteAccount forget it. Every failure is thrown as
 * a {@link CosyncError} with a typed `reason`.
 *
 * Login answers either a session or a second-factor challenge, as the oneof
 * `result`:
 *
 *     const res = await auth.login({ handle, password });
 *     if (res.result.case === "challenge") {
 *       await auth.completeLogin({ loginToken: res.result.value.loginToken, code });
 *     }
 *
 * One AuthClient is meant to live as long as the app; it is safe to call
 * from many places at once.
 */
export class AuthClient {
  /** The application id this client names on every call. */
  readonly appId: string;
  private readonly storage: SessionStorage;
  private readonly key: string;
  private readonly marginMs: number;
  private readonly now: () => number;
  private readonly plain: Client<typeof AuthService>;
  private current: Promise<Session | undefined> | undefined;
  private refreshing: Promise<Session> | undefined;
  private readonly listeners = new Set<SessionListener>();

  constructor(opts: AuthClientOptions) {
    if (!opts.appId) throw new TypeError("cosync: appId is required");
    this.appId = opts.appId;
    this.storage = opts.storage ?? memoryStorage();
    this.key = sessionKey(opts.appId);
    this.marginMs = (opts.refreshMarginSeconds ?? 60) * 1000;
    this.now = opts.now ?? Date.now;
    const appId: Interceptor = (next) => (req) => {
      req.header.set("Cosync-App-Id", this.appId);
      return next(req);
    };
    this.plain = createClient(AuthService, transport(opts.baseUrl, opts.fetch, [appId]));
    const rpc = createClient(AuthService, transport(opts.baseUrl, opts.fetch, [appId, this.sessionInterceptor()]));
    for (const m of AuthService.methods) {
      Object.defineProperty(this, m.localName, { value: rpc[m.localName as keyof typeof rpc], enumerable: true });
    }
  }

  /**
   * session resolves to the kept session (refreshed first when its access
   * token is about to expire), or undefined when signed out.
   */
  async session(): Promise<Session | undefined> {
    const s = await this.stored();
    if (s === undefined || !this.expiring(s)) return s;
    return this.refresh();
  }

  /**
   * accessToken resolves to a current access token, refreshed when needed —
   * what to send to your own backend as `Authorization: Bearer`. Undefined
   * when signed out.
   */
  async accessToken(): Promise<string | undefined> {
    return (await this.session())?.accessToken;
  }

  /**
   * refresh rotates the refresh token now and keeps the new session. Calls
   * made while a refresh is in flight share it: one RefreshSession RPC,
   * however many callers. A refusal that ends the session (reused, expired or
   * revoked refresh token; suspended account) also forgets it.
   */
  refresh(): Promise<Session> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * signOut ends the session on the server (every session of the user with
   * `all`) and forgets it here. It forgets it also when the server cannot be
   * reached, and then rejects with that error, so the app is signed out
   * either way and may tell the user the server was not told.
   */
  async signOut(opts: { all?: boolean } = {}): Promise<void> {
    try {
      if (await this.stored()) await this.logout({ all: opts.all ?? false });
    } catch (err) {
      await this.keep(undefined);
      if (err instanceof CosyncError && err.code === Code.Unauthenticated) return;
      throw err;
    }
    await this.keep(undefined);
  }

  /** onSessionChange calls listener on every sign-in, refresh and sign-out; it returns the unsubscribe function. */
  onSessionChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stored(): Promise<Session | undefined> {
    this.current ??= loadSession(this.storage, this.key);
    return this.current;
  }

  private expiring(s: Session): boolean {
    return s.expiresAt !== undefined && this.now() >= timestampMs(s.expiresAt) - this.marginMs;
  }

  private async keep(s: Session | undefined): Promise<void> {
    if (s === undefined && (await this.stored()) === undefined) return; // already signed out
    this.current = Promise.resolve(s);
    await saveSession(this.storage, this.key, s);
    for (const l of this.listeners) {
      try {
        l(s);
      } catch (err) {
        // A listener's bug is the app's to see, not the call's to fail with.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private async rotate(): Promise<Session> {
    const s = await this.stored();
    if (s === undefined) {
      throw CosyncError.from(new Error("not signed in"), Code.Unauthenticated);
    }
    try {
      const res = await this.plain.refreshSession({ refreshToken: s.refreshToken });
      if (!res.session) throw CosyncError.from(new Error("RefreshSession answered no session"), Code.Internal);
      // A sign-in that finished meanwhile wins over this older session.
      if ((await this.stored())?.refreshToken === s.refreshToken) await this.keep(res.session);
      return res.session;
    } catch (err) {
      const e = CosyncError.from(err);
      if (over.has(e.reason) && (await this.stored())?.refreshToken === s.refreshToken) await this.keep(undefined);
      throw e;
    }
  }

  private sessionInterceptor(): Interceptor {
    return (next) => async (req) => {
      const name = req.method.localName;
      let sent: Session | undefined;
      if (!sessionless.has(name) && !req.header.has("Authorization")) {
        sent = await this.session();
        if (sent) req.header.set("Authorization", `Bearer ${sent.accessToken}`);
      }
      let res;
      try {
        res = await next(req);
      } catch (err) {
        // The server's clock ran ahead of ours: refresh once and retry.
        const e = CosyncError.from(err);
        if (sent === undefined || e.reason !== ErrorReason.TOKEN_EXPIRED) throw e;
        const fresh = await this.refresh();
        req.header.set("Authorization", `Bearer ${fresh.accessToken}`);
        res = await next(req);
      }
      if (!res.stream) {
        const s = sessionIn(req.method.output, res.message);
        if (s) await this.keep(s);
        else if (ending.has(name) && sent) await this.keep(undefined);
      }
      return res;
    };
  }
}

// sessionIn finds the Session a response carries, as a plain field or as the
// chosen case of a oneof (Login's `result`), by reading the descriptor.
function sessionIn(desc: DescMessage, msg: Message): Session | undefined {
  const r = reflect(desc, msg);
  for (const f of r.fields) {
    if (f.fieldKind === "message" && f.message.typeName === SessionSchema.typeName && r.isSet(f)) {
      return r.get(f).message as Session;
    }
  }
  return undefined;
}
