// The entry of the browser and React-Native-like bundles: what an app does
// at start. Bundled with no Node built-ins available, and run with fetch only.
import { AuthClient, CosyncError, memoryStorage } from "@cosync/auth";

export async function check(): Promise<string> {
  const auth = new AuthClient({ baseUrl: "http://127.0.0.1:1", appId: "app", storage: memoryStorage() });
  if ((await auth.session()) !== undefined) return "unexpected session";
  const err = await auth.getApplication({}).catch((e: unknown) => e);
  return err instanceof CosyncError ? "ok" : `unexpected ${String(err)}`;
}
