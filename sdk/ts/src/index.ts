// CoSync Auth client: the generated service descriptors plus a transport
// that names the application on every call and carries the user's token.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/cosync/auth/v1/auth_pb.js";
import { AdminService } from "./gen/cosync/admin/v1/admin_pb.js";

export * from "./gen/cosync/auth/v1/auth_pb.js";
export * from "./gen/cosync/auth/v1/types_pb.js";
export * from "./gen/cosync/auth/v1/errors_pb.js";
export { AdminService } from "./gen/cosync/admin/v1/admin_pb.js";

/** Options for {@link createCosyncTransport}. */
export interface CosyncOptions {
  /** Where the server is, e.g. "https://auth.example.com". */
  baseUrl: string;
  /** The application id (sent as the Cosync-App-Id header). */
  appId: string;
  /** Returns the current access token, or undefined when signed out. */
  accessToken?: () => string | undefined;
  /** Replaces fetch (tests, custom agents). */
  fetch?: typeof globalThis.fetch;
}

/** Interceptor that adds Cosync-App-Id and, when there is one, the bearer token. */
export function cosyncHeaders(appId: string, accessToken?: () => string | undefined): Interceptor {
  return (next) => async (req) => {
    req.header.set("Cosync-App-Id", appId);
    const token = accessToken?.();
    if (token) req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** A Connect transport for CoSync Auth (JSON over HTTP, works in browsers). */
export function createCosyncTransport(opts: CosyncOptions): Transport {
  return createConnectTransport({
    baseUrl: opts.baseUrl,
    fetch: opts.fetch,
    interceptors: [cosyncHeaders(opts.appId, opts.accessToken)],
  });
}

/** An AuthService client for one application. */
export function createAuthClient(opts: CosyncOptions): Client<typeof AuthService> {
  return createClient(AuthService, createCosyncTransport(opts));
}

/** An AdminService client; accessToken is a console session's token. */
export function createAdminClient(opts: Omit<CosyncOptions, "appId">): Client<typeof AdminService> {
  return createClient(AdminService, createCosyncTransport({ ...opts, appId: "console" }));
}
