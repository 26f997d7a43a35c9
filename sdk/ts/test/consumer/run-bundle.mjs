// Runs an IIFE bundle (global `entry`) in a VM context that has what React
// Native and browsers share — fetch and its companions, timers, text codecs —
// and nothing of Node: no process, Buffer, require or module.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const file = process.argv[2];
const context = vm.createContext({
  fetch, Headers, Request, Response, AbortController, AbortSignal,
  TextEncoder, TextDecoder, URL, URLSearchParams,
  setTimeout, clearTimeout, queueMicrotask, console,
});
vm.runInContext(readFileSync(file, "utf8"), context, { filename: file });
const got = await vm.runInContext("entry.check()", context);
if (got !== "ok") {
  console.error(`${file}: ${got}`);
  process.exit(1);
}
console.log(`${file}: ok with fetch only`);
