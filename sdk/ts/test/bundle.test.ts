// The package bundled as a web app and a React Native app would bundle it,
// run against a real server with fetch and nothing of Node. The bundled
// package is the packed tarball installed in $COSYNC_SDK_CONSUMER (set by
// scripts/test-sdk-ts.sh), else this checkout's dist by its own name.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { startServer, type Server } from "./harness.js";

const run = promisify(execFile);
const consumer = process.env.COSYNC_SDK_CONSUMER || resolve(import.meta.dirname, "../../test/consumer");

let srv: Server;
before(async () => {
  srv = await startServer();
});
after(() => srv?.close());

const targets: Record<string, BuildOptions> = {
  browser: { platform: "browser" },
  // Metro reads the react-native condition and field first. Platform neutral
  // resolves no Node built-in, so importing one fails the build.
  "react-native": { platform: "neutral", conditions: ["react-native", "browser"], mainFields: ["react-native", "browser", "module", "main"] },
};

for (const [name, opts] of Object.entries(targets)) {
  test(`a ${name} bundle works with fetch only`, async () => {
    const outfile = join(import.meta.dirname, `bundle-${name}.js`);
    const res = await build({
      ...opts,
      entryPoints: [join(consumer, "bundle.ts")],
      bundle: true,
      format: "iife",
      globalName: "entry",
      outfile,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys((res.metafile as Metafile).inputs);
    assert.deepEqual(inputs.filter((i) => /node_modules\/jose\/|^node:|\/admin(_pb)?\.js$/.test(i)), [], "bundled jose, Admin code or a Node built-in");
    const { stdout } = await run(process.execPath, [join(consumer, "run-bundle.mjs"), outfile, srv.url]);
    assert.equal(stdout.trim(), "ok: console, INVALID_CREDENTIALS");
  });
}
