// verifyToken and AdminClient against a real server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { AuthClient, CosyncError, ErrorReason, SignupFlow } from "../src/index.js";
import { AdminClient } from "../src/admin.js";
import { errors, verifyToken } from "../src/server.js";
import { startServer, type Server } from "./harness.js";

let srv: Server;
before(async () => {
  srv = await startServer();
});
after(() => srv?.close());

async function signedIn(app: string, handle: string): Promise<AuthClient> {
  const auth = new AuthClient({ baseUrl: srv.url, appId: app });
  await auth.signUp({ handle, password: "correct horse" });
  return auth;
}

describe("verifyToken", () => {
  test("accepts the app's tokens and returns their claims", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE, audience: ["my-api"] });
    const auth = await signedIn(app, "ann@example.com");
    const token = (await auth.accessToken())!;
    const { user } = await auth.getUser({});

    for (const opts of [
      { appId: app, audience: "my-api", baseUrl: srv.url },
      { appId: app, audience: ["other", "my-api"], issuer: `${srv.url}/apps/${app}` },
      { appId: app, audience: "my-api", baseUrl: srv.url, jwksUrl: `${srv.url}/apps/${app}/.well-known/jwks.json` },
    ]) {
      const claims = await verifyToken(token, opts);
      assert.equal(claims.sub, user!.id);
      assert.equal(claims.email, "ann@example.com");
      assert.equal(claims.iss, `${srv.url}/apps/${app}`);
      assert.ok(claims.sid);
    }
  });

  test("refuses another audience, another app's token and a forged one", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE, audience: ["my-api"] });
    const other = await srv.createApp({ signupFlow: SignupFlow.NONE, audience: ["my-api"] });
    const token = (await (await signedIn(app, "bo@example.com")).accessToken())!;
    const foreign = (await (await signedIn(other, "bo@example.com")).accessToken())!;

    await assert.rejects(verifyToken(token, { appId: app, audience: "not-mine", baseUrl: srv.url }), errors.JWTClaimValidationFailed);
    // Another app's token is signed by another key and names another issuer.
    for (const opts of [
      { appId: app, audience: "my-api", baseUrl: srv.url },
      { appId: other, audience: "my-api", baseUrl: srv.url, jwksUrl: `${srv.url}/apps/${app}/.well-known/jwks.json` },
    ]) {
      await assert.rejects(verifyToken(opts.appId === app ? foreign : token, opts), errors.JOSEError);
    }
    const [h, p, s] = token.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "someone-else" })).toString("base64url")}.${s}`;
    await assert.rejects(verifyToken(forged, { appId: app, audience: "my-api", baseUrl: srv.url }), errors.JWSSignatureVerificationFailed);
    await assert.rejects(verifyToken(token, { appId: app, audience: "my-api" }), TypeError);
  });
});

describe("AdminClient", () => {
  test("calls the AdminService with a token and reports refusals by reason", async () => {
    const app = await srv.createApp();
    const { app: got } = await srv.admin.getApp({ appId: app });
    assert.equal(got?.id, app);

    const stranger = new AdminClient({ baseUrl: srv.url, token: "not-a-token" });
    const err = await stranger.listApps({}).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CosyncError);
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.reason, ErrorReason.TOKEN_INVALID);

    const missing = await srv.admin.getApp({ appId: "no-such-app" }).then(() => undefined, (e: unknown) => e);
    assert.ok(missing instanceof CosyncError);
    assert.equal(missing.reason, ErrorReason.APP_NOT_FOUND);
  });
});
