// verifyToken: what a Node (or Deno, Bun, edge) backend needs to trust a
// CoSync Auth access token. A separate entry point (`@cosync/auth/server`)
// so browser and mobile bundles never pull in jose.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";

export { errors } from "jose";

/** VerifyOptions say which application's tokens to accept. */
export interface VerifyOptions {
  /** The application id. */
  appId: string;
  /** The audience the app puts in its tokens (its `audience` setting); any one must match. */
  audience: string | string[];
  /** The expected `iss`: `<public URL>/apps/<appId>`. Derived from baseUrl when absent. */
  issuer?: string;
  /** The server's public URL (COSYNC_PUBLIC_URL); used for issuer and JWKS when those are absent. */
  baseUrl?: string;
  /** The JWKS URL; `<issuer>/.well-known/jwks.json` by default. */
  jwksUrl?: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat; default 0. */
  clockToleranceSeconds?: number;
}

/** CosyncClaims are the claims of a verified access token. */
export interface CosyncClaims extends JWTPayload {
  /** The user's stable id. */
  sub: string;
  /** The session id. */
  sid: string;
  iss: string;
  exp: number;
  email?: string;
  user_name?: string;
}

// One key set per JWKS URL for the life of the process: jose caches the keys,
// refetches when a token names a kid it has not seen (key rotation), at most
// once every 30 seconds, and drops them after 10 minutes.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * verifyToken checks an access token's RS256 signature against the app's
 * JWKS (fetched once and cached, refetched on key rotation), its issuer,
 * audience and expiry, and resolves to its claims. It rejects with one of
 * jose's errors (`errors.JWTExpired`, `errors.JWTClaimValidationFailed`,
 * `errors.JWSSignatureVerificationFailed`, …; each has a `code`).
 *
 *     const claims = await verifyToken(bearer, { appId, audience: "my-api", baseUrl: "https://auth.example.com" });
 *     claims.sub; // the user id
 */
export async function verifyToken(token: string, opts: VerifyOptions): Promise<CosyncClaims> {
  const issuer = opts.issuer ?? issuerOf(opts);
  if (!issuer.endsWith(`/apps/${opts.appId}`)) {
    throw new TypeError(`cosync: issuer ${issuer} is not that of app ${opts.appId}`);
  }
  const jwksUrl = opts.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
  let keys = keySets.get(jwksUrl);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUrl));
    keySets.set(jwksUrl, keys);
  }
  const { payload } = await jwtVerify(token, keys, {
    issuer,
    audience: opts.audience,
    algorithms: ["RS256"],
    clockTolerance: opts.clockToleranceSeconds ?? 0,
    requiredClaims: ["sub", "exp", "iat"],
  });
  return payload as CosyncClaims;
}

function issuerOf(opts: VerifyOptions): string {
  if (!opts.appId) throw new TypeError("cosync: appId is required");
  if (!opts.baseUrl) throw new TypeError("cosync: give issuer or baseUrl");
  return `${opts.baseUrl.replace(/\/+$/, "")}/apps/${opts.appId}`;
}
