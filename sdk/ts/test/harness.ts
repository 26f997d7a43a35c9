// A real CoSync Auth server for the tests: the binary built from this
// checkout (or $COSYNC_AUTH_BIN), on SQLite in a fresh temp dir, on a free
// port, with a developer signed in through the SDK itself.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { AuthClient } from "../src/index.js";
import { AdminClient } from "../src/admin.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AppSettingsSchema } from "../src/admin.js";

const run = promisify(execFile);
// build-test/test/harness.js → the repository root.
const repoRoot = resolve(import.meta.dirname, "../../../..");

export interface Server {
  url: string;
  /** close stops the server and removes its data. */
  close(): Promise<void>;
  /** AdminClient signed in as a developer. */
  admin: AdminClient;
  createApp(settings?: MessageInitShape<typeof AppSettingsSchema>): Promise<string>;
  /** The first six-digit code mailed (to the dev outbox) to `to` in app `appId`. */
  mailedCode(appId: string, to: string): Promise<string>;
}

/** startServer starts a server; the caller closes it (`after(() => srv.close())`). */
export async function startServer(): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), "cosync-sdk-ts-"));
  const bin = process.env.COSYNC_AUTH_BIN || (await build(dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    COSYNC_ADDR: `127.0.0.1:${port}`,
    COSYNC_PUBLIC_URL: url,
    COSYNC_DATA_DIR: dir,
    COSYNC_LOG_LEVEL: "warn",
    COSYNC_DEVELOPER_PASSWORD: "a long dev password",
  };
  const proc = spawn(bin, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
  const close = async () => {
    await stop(proc);
    await rm(dir, { recursive: true, force: true });
  };
  await ready(url, proc);
  await run(bin, ["developer", "create", "--email", "dev@example.com"], { env });

  const console = new AuthClient({ baseUrl: url, appId: "console" });
  await console.login({ handle: "dev@example.com", password: "a long dev password" });
  const admin = new AdminClient({ baseUrl: url, token: () => console.accessToken() });
  let apps = 0;
  return {
    url,
    admin,
    close,
    async createApp(settings = {}) {
      const res = await admin.createApp({ name: `App ${++apps}`, settings });
      return res.app!.id;
    },
    async mailedCode(appId, to) {
      const { messages } = await admin.listOutbox({ appId });
      for (const m of messages) {
        const code = m.to === to ? /\b\d{6}\b/.exec(`${m.subject}\n${m.text}`)?.[0] : undefined;
        if (code) return code;
      }
      throw new Error(`no code mailed to ${to}`);
    },
  };
}

async function build(dir: string): Promise<string> {
  const bin = join(dir, "cosync-auth");
  await run("go", ["build", "-o", bin, "./server"], { cwd: repoRoot });
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

// ready waits until /healthz answers 200; it fails when the server exits,
// or has not answered after a minute (a hung start, not a slow one).
async function ready(url: string, proc: ChildProcess): Promise<void> {
  let exited: string | undefined;
  proc.once("exit", (code) => (exited = `cosync-auth exited with ${code}`));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) throw new Error(`cosync-auth did not answer ${url}/healthz within a minute`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    proc.once("exit", () => ok());
    proc.kill("SIGTERM");
  });
}

/** totp is the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret, `steps` periods from now. */
export function totp(secret: string, steps = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + steps));
  const h = createHmac("sha1", key).update(counter).digest();
  const off = h[h.length - 1]! & 0xf;
  return ((h.readUInt32BE(off) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

/** countingFetch counts the calls of each procedure (the last URL segment) it passes on. */
export function countingFetch(): { fetch: typeof fetch; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    calls,
    fetch: (input, init) => {
      const name = String(input instanceof Request ? input.url : input).split("/").pop()!;
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return fetch(input, init);
    },
  };
}
