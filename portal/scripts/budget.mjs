// Checks the bundle budget: the JavaScript the first page loads (the entry
// script and the modules it preloads, as dist/app/index.html names them)
// must stay under 250 KB gzipped. It also checks that the protobuf and
// Connect runtimes are bundled once (the generated code lives outside this
// package; a second copy would split their registries). Run after `vite build`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const budget = 250 * 1024;
const dir = new URL("../dist/app/", import.meta.url).pathname;
const html = readFileSync(join(dir, "index.html"), "utf8");
const srcs = new Set();
for (const m of html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)) srcs.add(m[1]);
for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)) srcs.add(m[1]);
if (srcs.size === 0) {
  console.error("budget: dist/app/index.html names no module script");
  process.exit(1);
}
let total = 0;
for (const src of srcs) {
  const size = gzipSync(readFileSync(join(dir, src.replace(/^\//, ""))), { level: 9 }).length;
  total += size;
  console.log(`budget: ${src} ${(size / 1024).toFixed(1)} KB gzipped`);
}
const line = `budget: first page JavaScript ${(total / 1024).toFixed(1)} KB gzipped (limit ${budget / 1024} KB)`;
if (total >= budget) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);


// One message from each runtime, written once in its source.
const markers = {
  "@bufbuild/protobuf": "maximum recursion depth reached",
  "@connectrpc/connect": "unsupported content type ",
};
const assets = join(dir, "assets");
const js = readdirSync(assets)
  .filter((f) => f.endsWith(".js"))
  .map((f) => readFileSync(join(assets, f), "utf8"))
  .join("\n");
for (const [pkg, marker] of Object.entries(markers)) {
  const copies = js.split(marker).length - 1;
  if (copies !== 1) {
    console.error(`budget: the bundle holds ${copies} copies of ${pkg}, want 1 (see resolve.alias and dedupe in vite.config.ts)`);
    process.exit(1);
  }
}
console.log(`budget: one copy each of ${Object.keys(markers).join(" and ")}`);
