// AuthClient against a real server: sessions kept, refreshed once for many
// waiting calls, second-factor challenges, and errors with typed reasons.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AuthClient, CosyncError, ErrorReason, SignupFlow, TwoFactorMethod, isCosyncError,
  type Session, type SessionStorage,
} from "../src/index.js";
import { countingFetch, startServer, totp, type Server } from "./harness.js";

let srv: Server;
before(async () => {
  srv = await startServer();
});
after(() => srv?.close());

/** rejects resolves to the CosyncError p rejects with, and fails when p resolves. */
async function rejects(p: Promise<unknown>): Promise<CosyncError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CosyncError, `rejected with ${err}, want a CosyncError`);
    return err;
  }
  assert.fail("resolved, want an error");
}

describe("AuthClient", () => {
  test("signs up with the mailed code, keeps the session and sends it", async () => {
    const app = await srv.createApp();
    const auth = new AuthClient({ baseUrl: srv.url, appId: app });
    const seen: (Session | undefined)[] = [];
    auth.onSessionChange((s) => seen.push(s));

    const up = await auth.signUp({ handle: "ann@example.com", password: "correct horse" });
    assert.equal(up.flow, SignupFlow.CODE);
    assert.equal(await auth.session(), undefined);

    const bad = await rejects(auth.completeSignUp({ handle: "ann@example.com", code: "000000" }));
    assert.equal(bad.reason, ErrorReason.INVALID_CODE);

    const code = await srv.mailedCode(app, "ann@example.com");
    const done = await auth.completeSignUp({ handle: "ann@example.com", code });
    assert.equal((await auth.session())?.accessToken, done.session?.accessToken);
    assert.equal(seen.length, 1);

    const { user } = await auth.getUser({});
    assert.equal(user?.email, "ann@example.com");

    await auth.signOut();
    assert.equal(await auth.session(), undefined);
    assert.deepEqual(seen.slice(1), [undefined]);
    const missing = await rejects(auth.getUser({}));
    assert.equal(missing.code, Code.Unauthenticated);
    assert.equal(missing.reason, ErrorReason.TOKEN_MISSING);
  });

  test("throws errors with typed reasons and field violations", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE });
    const auth = new AuthClient({ baseUrl: srv.url, appId: app });

    const weak = await rejects(auth.signUp({ handle: "bo@example.com", password: "short" }));
    assert.equal(weak.code, Code.InvalidArgument);
    assert.equal(weak.reason, ErrorReason.PASSWORD_POLICY);
    assert.equal(weak.reasonName, "PASSWORD_POLICY");
    assert.deepEqual(weak.violations.map((v) => v.field), ["password"]);
    assert.ok(isCosyncError(weak, ErrorReason.PASSWORD_POLICY, ErrorReason.INVALID_ARGUMENT));
    assert.ok(!isCosyncError(weak, ErrorReason.INVALID_CODE));
    // Still a ConnectError for code that knows only Connect; a plain one is no CosyncError.
    assert.ok(weak instanceof ConnectError);
    assert.ok(!(new ConnectError("plain", Code.Internal) instanceof CosyncError));

    await auth.signUp({ handle: "bo@example.com", password: "correct horse" });
    const wrong = await rejects(auth.login({ handle: "bo@example.com", password: "wrong horse" }));
    assert.equal(wrong.reason, ErrorReason.INVALID_CREDENTIALS);

    const noApp = new AuthClient({ baseUrl: srv.url, appId: "no-such-app" });
    const unknown = await rejects(noApp.getApplication({}));
    assert.equal(unknown.reason, ErrorReason.APP_NOT_FOUND);

    const down = new AuthClient({ baseUrl: "http://127.0.0.1:1", appId: app });
    const net = await rejects(down.getApplication({}));
    assert.equal(net.reason, ErrorReason.UNSPECIFIED);
  });

  test("refreshes a token about to expire once, however many calls wait", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE });
    let now = Date.now();
    const counted = countingFetch();
    const auth = new AuthClient({ baseUrl: srv.url, appId: app, fetch: counted.fetch, now: () => now });
    const first = (await auth.signUp({ handle: "cy@example.com", password: "correct horse" })).session!;

    // Not yet within the margin: no refresh.
    await auth.getUser({});
    assert.equal(counted.calls.get("RefreshSession"), undefined);

    // 30 s before expiry, inside the default 60 s margin: ten calls, one refresh.
    now = timestampMs(first.expiresAt!) - 30_000;
    const users = await Promise.all(Array.from({ length: 10 }, () => auth.getUser({})));
    assert.equal(counted.calls.get("RefreshSession"), 1);
    assert.ok(users.every((u) => u.user?.email === "cy@example.com"));
    now = Date.now();
    const second = (await auth.session())!;
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.equal(counted.calls.get("RefreshSession"), 1);

    // Many explicit refreshes at once also share one RPC.
    const all = await Promise.all(Array.from({ length: 5 }, () => auth.refresh()));
    assert.equal(counted.calls.get("RefreshSession"), 2);
    assert.ok(all.every((s) => s.refreshToken === all[0]!.refreshToken));

    // The user signs out everywhere from another device: the next refresh is
    // refused with a reason that ends the session, and the client forgets it.
    const seen: unknown[] = [];
    auth.onSessionChange((s) => seen.push(s));
    const otherDevice = new AuthClient({ baseUrl: srv.url, appId: app });
    await otherDevice.login({ handle: "cy@example.com", password: "correct horse" });
    await otherDevice.signOut({ all: true });
    const ended = await rejects(auth.refresh());
    assert.equal(ended.reason, ErrorReason.SESSION_REVOKED);
    assert.deepEqual(seen, [undefined]);
    assert.equal(await auth.session(), undefined);
  });

  test("retries once with a fresh token when the server's clock is ahead", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE });
    // The first GetUser is answered as the server answers a token that has
    // expired by its clock while ours says it has not (same bytes as
    // internal/rpc sends); everything else reaches the real server.
    const info = new BinaryWriter().tag(1, WireType.LengthDelimited).string("TOKEN_EXPIRED")
      .tag(2, WireType.LengthDelimited).string("cosync.auth").finish();
    const counted = countingFetch();
    let skewed = 1;
    const fetch: typeof globalThis.fetch = (input, init) => {
      if (String(input).endsWith("/GetUser") && skewed-- > 0) {
        counted.calls.set("GetUser (expired)", 1);
        return Promise.resolve(new Response(JSON.stringify({
          code: "unauthenticated", message: "the access token has expired",
          details: [{ type: "google.rpc.ErrorInfo", value: Buffer.from(info).toString("base64") }],
        }), { status: 401, headers: { "Content-Type": "application/json" } }));
      }
      return counted.fetch(input, init);
    };
    const auth = new AuthClient({ baseUrl: srv.url, appId: app, fetch });
    await auth.signUp({ handle: "fay@example.com", password: "correct horse" });
    const { user } = await auth.getUser({});
    assert.equal(user?.email, "fay@example.com");
    assert.deepEqual(Object.fromEntries(counted.calls), { SignUp: 1, "GetUser (expired)": 1, RefreshSession: 1, GetUser: 1 });
  });

  test("surfaces a second-factor challenge and completes it", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE, twoFactor: TwoFactorMethod.TOTP });
    const auth = new AuthClient({ baseUrl: srv.url, appId: app });
    await auth.signUp({ handle: "di@example.com", password: "correct horse" });
    const { secret } = await auth.beginTotpEnrollment({});
    const { recoveryCodes } = await auth.confirmTotpEnrollment({ code: totp(secret) });
    assert.equal(recoveryCodes.length, 10);
    await auth.signOut();

    const res = await auth.login({ handle: "di@example.com", password: "correct horse" });
    assert.equal(res.result.case, "challenge");
    if (res.result.case !== "challenge") return;
    assert.equal(res.result.value.method, TwoFactorMethod.TOTP);
    assert.equal(await auth.session(), undefined, "a challenge is not a session");

    const loginToken = res.result.value.loginToken;
    const bad = await rejects(auth.completeLogin({ loginToken, code: "000000" }));
    assert.equal(bad.reason, ErrorReason.INVALID_CODE);
    // The confirming code is spent; the next step's is within the allowed skew.
    const done = await auth.completeLogin({ loginToken, code: totp(secret, 1) });
    assert.equal(done.session?.user?.email, "di@example.com");
    assert.equal((await auth.getUser({})).user?.email, "di@example.com");
  });

  test("keeps the session in the storage the app gives", async () => {
    const app = await srv.createApp({ signupFlow: SignupFlow.NONE });
    // Shaped like React Native's AsyncStorage: every method returns a promise.
    const items = new Map<string, string>();
    const storage: SessionStorage = {
      getItem: async (k) => items.get(k) ?? null,
      setItem: async (k, v) => void items.set(k, v),
      removeItem: async (k) => void items.delete(k),
    };
    const fits = (web: Storage): SessionStorage => web; // localStorage fits as it is
    void fits;
    const auth = new AuthClient({ baseUrl: srv.url, appId: app, storage });
    await auth.signUp({ handle: "ed@example.com", password: "correct horse" });
    assert.deepEqual([...items.keys()], [`cosync-auth:session:${app}`]);

    // The app starts again: a new client reads the kept session.
    const restarted = new AuthClient({ baseUrl: srv.url, appId: app, storage });
    assert.equal((await restarted.getUser({})).user?.email, "ed@example.com");
    await restarted.signOut();
    assert.equal(items.size, 0);
  });
});
