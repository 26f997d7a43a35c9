// Checks the bundle budget: the JavaScript the first page loads (the entry
// script and the modules it preloads, as dist/app/index.html names them)
// must stay under 250 KB gzipped. Run after `vite build`.
import { readFileSync } from "node:fs";
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
