// A `module: nodenext` TypeScript project: the types resolve through the
// exports map and read as an app developer expects.
import { AuthClient, ErrorReason, isCosyncError, type LoginResponse, type Session } from "@cosync/auth";
import { AdminClient, type App } from "@cosync/auth/admin";
import { verifyToken, type CosyncClaims } from "@cosync/auth/server";

const auth = new AuthClient({ baseUrl: "http://127.0.0.1:1", appId: "app" });
export async function signIn(code: () => Promise<string>): Promise<Session | undefined> {
  const res: LoginResponse = await auth.login({ handle: "ann@example.com", password: "correct horse" });
  switch (res.result.case) {
    case "session":
      return res.result.value;
    case "challenge":
      return (await auth.completeLogin({ loginToken: res.result.value.loginToken, code: await code() })).session;
  }
  return undefined;
}
export async function reasonOf(p: Promise<unknown>): Promise<ErrorReason | undefined> {
  try {
    await p;
  } catch (err) {
    if (isCosyncError(err)) return err.reason;
  }
  return undefined;
}
export async function apps(token: string): Promise<App[]> {
  return (await new AdminClient({ baseUrl: "http://127.0.0.1:1", token }).listApps({})).apps;
}
export const claims: (t: string) => Promise<CosyncClaims> = (t) => verifyToken(t, { appId: "app", audience: "api", baseUrl: "http://127.0.0.1:1" });
