/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The generated API code is read from sdk/ts/src/gen (one copy of the API
// types). Those files import @bufbuild/protobuf from their own folder, so the
// runtime is pinned to this package's copy: two copies would split the
// registry of message descriptors and make instanceof checks lie.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^@gen\//, replacement: here("../sdk/ts/src/gen/") },
      { find: /^@bufbuild\/protobuf$/, replacement: here("./node_modules/@bufbuild/protobuf/dist/esm/index.js") },
      { find: /^@bufbuild\/protobuf\/(.*)$/, replacement: here("./node_modules/@bufbuild/protobuf/dist/esm/$1/index.js") },
    ],
    dedupe: ["@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-web", "react", "react-dom", "@tanstack/react-query"],
  },
  build: {
    outDir: "dist/app",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The budget that matters is gzipped size, checked by scripts/budget.mjs.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    fs: { allow: [here("."), here("../sdk/ts/src/gen")] },
    // `npm run dev` talks to a running server (make run) at COSYNC_API, same origin for the browser.
    proxy: Object.fromEntries(
      ["/cosync.auth.v1.AuthService", "/cosync.admin.v1.AdminService", "/apps/"].map((p) => [
        p,
        { target: process.env.COSYNC_API ?? "http://127.0.0.1:8080", changeOrigin: true },
      ]),
    ),
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    // The machines running these are shared: a page test typing into a
    // dozen fields can take seconds of wall time without anything being wrong.
    testTimeout: 20_000,
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
