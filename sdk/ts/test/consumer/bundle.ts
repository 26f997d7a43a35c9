// The entry of the browser and React-Native-like bundles: what an app does
// at start. Bundled with no Node built-ins available, and run with fetch only.
import { AuthClient, ErrorReason, isCosyncError, memoryStorage } from "@cosync/auth";

export async function check(baseUrl: string): Promise<string> {
  const auth = new AuthClient({ baseUrl, appId: "console", storage: memoryStorage() });
  if ((await auth.session()) !== undefined) return "a session before any sign-in";
  const { application } = await auth.getApplication({});
  const err = await auth.login({ handle: "nobody@example.com", password: "not a password" }).catch((e: unknown) => e);
  if (!isCosyncError(err, ErrorReason.INVALID_CREDENTIALS)) return `login: ${String(err)}`;
  return `ok: ${application?.id}, ${err.reasonName}`;
}
