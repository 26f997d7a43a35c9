// The portal's one transport: Connect over fetch to the server that served the
// page, naming the console application on every call and carrying the
// developer's access token, refreshed shortly before it expires.
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { SessionStore } from "./session";
import { problemOf } from "./errors";

/** ConsoleAppID is the built-in application developers sign in to. */
export const ConsoleAppID = "console";

/** How long before expiry the access token is refreshed. */
const refreshAhead = 60_000;

/** Calls that never carry the access token (they start or renew a session). */
const anonymous = new Set(["Login", "CompleteLogin", "RefreshSession", "ForgotPassword", "ResetPassword", "GetApplication"]);

export interface TransportOptions {
  /** Where the API is; default the page's own origin. */
  baseUrl?: string;
  /** Replaces fetch (tests). */
  fetch?: typeof globalThis.fetch;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/**
 * createPortalTransport returns the transport the whole portal uses. When a
 * call finds the access token about to expire it first refreshes the session
 * (once, however many calls wait); when the server says the session is gone,
 * the store ends it and the sign-in page says why.
 */
export function createPortalTransport(session: SessionStore, opts: TransportOptions = {}): Transport {
  const baseUrl = opts.baseUrl ?? window.location.origin;
  const now = opts.now ?? Date.now;
  const appHeader: Interceptor = (next) => (req) => {
    req.header.set("Cosync-App-Id", ConsoleAppID);
    return next(req);
  };
  // Refreshing goes through a transport without the bearer interceptor, so a
  // refresh never waits on itself.
  const bare = createConnectTransport({ baseUrl, fetch: opts.fetch, interceptors: [appHeader] });
  const auth = createClient(AuthService, bare);
  let refreshing: Promise<string> | null = null;

  const refresh = (refreshToken: string): Promise<string> => {
    refreshing ??= auth
      .refreshSession({ refreshToken })
      .then((res) => {
        if (!res.session) throw new ConnectError("no session in refresh answer", Code.Internal);
        session.signIn(res.session);
        return res.session.accessToken;
      })
      .catch((err: unknown) => {
        const p = problemOf(err);
        if (p.code === Code.Unauthenticated) session.end(p.message);
        throw err;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  };

  const bearer: Interceptor = (next) => async (req) => {
    if (!anonymous.has(req.method.name)) {
      const cur = session.current;
      if (cur) {
        const token = cur.expiresAt - now() < refreshAhead ? await refresh(cur.refreshToken) : cur.accessToken;
        req.header.set("Authorization", `Bearer ${token}`);
      }
    }
    try {
      return await next(req);
    } catch (err) {
      const p = problemOf(err);
      if (p.code === Code.Unauthenticated && req.service.typeName === AdminService.typeName) {
        session.end(p.message);
      }
      throw err;
    }
  };

  return createConnectTransport({ baseUrl, fetch: opts.fetch, interceptors: [appHeader, bearer] });
}
