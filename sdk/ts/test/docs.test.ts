// The TypeScript snippet of docs/sdks.md, extracted, type-checked as a
// `module: nodenext` project importing the built package, and run against a
// real server with the app, user and URL it names.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { AuthClient, SignupFlow } from "../src/index.js";
import { startServer, type Server } from "./harness.js";

const run = promisify(execFile);
const here = import.meta.dirname; // sdk/ts/build-test/test
const sdk = resolve(here, "../..");

let srv: Server;
before(async () => {
  srv = await startServer();
});
after(() => srv?.close());

async function snippet(): Promise<string> {
  const doc = await readFile(resolve(sdk, "../../docs/sdks.md"), "utf8");
  const section = /<!-- sdk-ts:start -->([\s\S]*?)<!-- sdk-ts:end -->/.exec(doc)?.[1];
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "docs/sdks.md has no ts block between the sdk-ts markers");
  return code;
}

test("the docs/sdks.md snippet type-checks and runs", async () => {
  const app = await srv.createApp({ signupFlow: SignupFlow.NONE, audience: ["my-api"] });
  await new AuthClient({ baseUrl: srv.url, appId: app }).signUp({ handle: "ann@example.com", password: "correct horse" });

  // Inside the package, so "@cosync/auth" resolves to it by its own name.
  const dir = join(sdk, "build-test", "snippet");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const code = (await snippet()).replaceAll("http://localhost:8080", srv.url).replaceAll("your-app-id", app);
  await writeFile(join(dir, "snippet.ts"), code);
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: ["node"], strict: true, skipLibCheck: false },
    files: ["snippet.ts"],
  }));
  await run(process.execPath, [join(sdk, "node_modules/typescript/bin/tsc"), "-p", dir]).catch((err: { stdout?: string }) => {
    assert.fail(`the snippet does not type-check:\n${err.stdout}`);
  });
  const { stdout } = await run(process.execPath, [join(dir, "snippet.js")]);
  assert.equal(stdout, "too weak: new_password\ntrue ann@example.com\n");
});
