// Runs an IIFE bundle (global `entry`) in a VM context that has what React
// Native and browsers share — fetch and its companions, timers, text codecs —
// and nothing of Node: no process, Buffer, require or module. Prints what
// entry.check(baseUrl) answers.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const [file, baseUrl] = process.argv.slice(2);
const context = vm.createContext({
  fetch, Headers, Request, Response, AbortController, AbortSignal,
  TextEncoder, TextDecoder, URL, URLSearchParams,
  setTimeout, clearTimeout, queueMicrotask, console,
});
vm.runInContext(readFileSync(file, "utf8"), context, { filename: file });
console.log(await vm.runInContext(`entry.check(${JSON.stringify(baseUrl)})`, context));
