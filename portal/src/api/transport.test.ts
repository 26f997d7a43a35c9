import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { SessionSchema } from "@gen/cosync/auth/v1/types_pb";
import { SessionStore } from "./session";
import { createPortalTransport } from "./transport";
import { errorInfo } from "../test/util";

interface Seen {
  path: string;
  appId: string | null;
  auth: string | null;
  body: unknown;
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/=+$/, "");

/** fakeServer answers Connect JSON calls like the real server does, recording each request. */
function fakeServer(answer: (path: string, body: unknown, auth: string | null) => { status: number; json: unknown }) {
  const seen: Seen[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    const raw = init?.body;
    const body: unknown = JSON.parse(ArrayBuffer.isView(raw) ? new TextDecoder().decode(raw) : String(raw ?? "{}"));
    seen.push({ path: url.pathname, appId: headers.get("Cosync-App-Id"), auth: headers.get("Authorization"), body });
    const { status, json } = answer(url.pathname, body, headers.get("Authorization"));
    return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, seen };
}

const signedIn = (store: SessionStore, expiresInMs: number, now: number) =>
  store.signIn(
    create(SessionSchema, {
      accessToken: "old-access",
      refreshToken: "refresh-1",
      expiresAt: { seconds: BigInt(Math.floor((now + expiresInMs) / 1000)), nanos: 0 },
    }),
  );

describe("createPortalTransport", () => {
  const now = Date.UTC(2026, 11, 6, 12);

  it("names the console app and sends the access token on Admin calls", async () => {
    const store = new SessionStore();
    signedIn(store, 3600_000, now);
    const srv = fakeServer(() => ({ status: 200, json: { apps: [] } }));
    const admin = createClient(AdminService, createPortalTransport(store, { baseUrl: "http://portal.test", fetch: srv.fetch, now: () => now }));
    await admin.listApps({});
    expect(srv.seen).toEqual([
      { path: "/cosync.admin.v1.AdminService/ListApps", appId: "console", auth: "Bearer old-access", body: {} },
    ]);
  });

  it("refreshes once, before expiry, for calls made together", async () => {
    const store = new SessionStore();
    signedIn(store, 10_000, now);
    const srv = fakeServer((path) =>
      path.endsWith("/RefreshSession")
        ? { status: 200, json: { session: { accessToken: "new-access", refreshToken: "refresh-2", expiresAt: "2026-12-06T13:00:00Z" } } }
        : { status: 200, json: {} },
    );
    const admin = createClient(AdminService, createPortalTransport(store, { baseUrl: "http://portal.test", fetch: srv.fetch, now: () => now }));
    await Promise.all([admin.listApps({}), admin.getApp({ appId: "a" })]);
    const refreshes = srv.seen.filter((s) => s.path.endsWith("/RefreshSession"));
    expect(refreshes).toEqual([{ path: "/cosync.auth.v1.AuthService/RefreshSession", appId: "console", auth: null, body: { refreshToken: "refresh-1" } }]);
    expect(srv.seen.filter((s) => s.path.includes("AdminService")).map((s) => s.auth)).toEqual(["Bearer new-access", "Bearer new-access"]);
    expect(store.current?.refreshToken).toBe("refresh-2");
  });

  it("ends the session, saying why, when the server no longer accepts it", async () => {
    const store = new SessionStore();
    signedIn(store, 3600_000, now);
    const srv = fakeServer(() => ({
      status: 401,
      json: { code: "unauthenticated", message: "session revoked", details: [{ type: "google.rpc.ErrorInfo", value: b64(errorInfo("SESSION_REVOKED")) }] },
    }));
    const admin = createClient(AdminService, createPortalTransport(store, { baseUrl: "http://portal.test", fetch: srv.fetch, now: () => now }));
    await expect(admin.listApps({})).rejects.toThrow();
    expect(store.current).toBeNull();
    expect(store.notice).toBe("Your session was signed out. Sign in again.");
  });

  it("ends the session when the refresh token is refused", async () => {
    const store = new SessionStore();
    signedIn(store, 1_000, now);
    const srv = fakeServer(() => ({
      status: 401,
      json: { code: "unauthenticated", message: "reused", details: [{ type: "google.rpc.ErrorInfo", value: b64(errorInfo("REFRESH_TOKEN_REUSED")) }] },
    }));
    const admin = createClient(AdminService, createPortalTransport(store, { baseUrl: "http://portal.test", fetch: srv.fetch, now: () => now }));
    await expect(admin.listApps({})).rejects.toThrow();
    expect(srv.seen.map((s) => s.path)).toEqual(["/cosync.auth.v1.AuthService/RefreshSession"]);
    expect(store.current).toBeNull();
    expect(store.notice).toBe("Your session was signed out for safety. Sign in again.");
  });
});
