// AdminClient: the AdminService for scripts and back offices, plus the
// Admin messages. A separate entry point (`@cosync/auth/admin`) so an app's
// bundle never carries the Admin descriptors.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { AdminService } from "./gen/cosync/admin/v1/admin_pb.js";
import { transport, type Fetch } from "./transport.js";

export * from "./gen/cosync/admin/v1/admin_pb.js";
export * from "./gen/cosync/admin/v1/types_pb.js";
export { CosyncError, isCosyncError, type FieldViolation } from "./errors.js";
export { ErrorReason } from "./gen/cosync/auth/v1/errors_pb.js";

/** A bearer credential, or a function that yields the current one (e.g. `() => console.accessToken()`). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** AdminClientOptions configure an {@link AdminClient}: give an API key or a token. */
export type AdminClientOptions = {
  /** Where the server is, e.g. "https://auth.example.com". */
  baseUrl: string;
  /** Replaces globalThis.fetch. */
  fetch?: Fetch;
} & (
  | {
      /** An API key (scoped to one app and a role), for scripts. */
      apiKey: string;
      token?: undefined;
    }
  | {
      /** A developer's access token for the built-in `console` application, or a function yielding a fresh one. */
      token: TokenSource;
      apiKey?: undefined;
    }
);

// Every AdminService method, typed from the generated descriptor.
export interface AdminClient extends Client<typeof AdminService> {}

/**
 * AdminClient calls the AdminService as a developer (console access token)
 * or as an API key, both sent as `Authorization: Bearer`. Every failure is
 * thrown as a CosyncError with a typed `reason`. Safe for concurrent use.
 *
 *     const admin = new AdminClient({ baseUrl, apiKey: process.env.COSYNC_API_KEY! });
 *     const { apps } = await admin.listApps({});
 */
export class AdminClient {
  constructor(opts: AdminClientOptions) {
    const source: TokenSource | undefined = opts.apiKey ?? opts.token;
    if (!source) throw new TypeError("cosync: AdminClient needs an apiKey or a token");
    const bearer: Interceptor = (next) => async (req) => {
      const t = typeof source === "function" ? await source() : source;
      if (t && !req.header.has("Authorization")) req.header.set("Authorization", `Bearer ${t}`);
      return next(req);
    };
    const rpc = createClient(AdminService, transport(opts.baseUrl, opts.fetch, [bearer]));
    for (const m of AdminService.methods) {
      Object.defineProperty(this, m.localName, { value: rpc[m.localName as keyof typeof rpc], enumerable: true });
    }
  }
}
