// The one transport both clients use: Connect over JSON with fetch, so it
// runs in browsers, Node 20+, Deno, Bun and React Native alike.
import { type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CosyncError } from "./errors.js";

/** Fetch is the fetch function a client uses; globalThis.fetch by default. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** rethrowTyped turns every failure of a call into a CosyncError. */
export const rethrowTyped: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw CosyncError.from(err);
  }
};

export function transport(baseUrl: string, fetchFn: Fetch | undefined, interceptors: Interceptor[]): Transport {
  if (!baseUrl) throw new TypeError("cosync: baseUrl is required");
  return createConnectTransport({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    // Bound late, so a polyfill installed after the client is created still counts.
    fetch: fetchFn ?? ((input, init) => globalThis.fetch(input, init)),
    interceptors: [rethrowTyped, ...interceptors],
  });
}
