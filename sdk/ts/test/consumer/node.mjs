// Plain Node ESM, no build step: every entry point imports and works.
import assert from "node:assert/strict";
import { AuthClient, CosyncError, ErrorReason, LoginRequestSchema } from "@cosync/auth";
import { AdminClient, AdminService } from "@cosync/auth/admin";
import { verifyToken } from "@cosync/auth/server";

assert.equal(typeof verifyToken, "function");
assert.equal(LoginRequestSchema.typeName, "cosync.auth.v1.LoginRequest");
assert.ok(AdminService.methods.length > 30);
const admin = new AdminClient({ baseUrl: "http://127.0.0.1:1", apiKey: "k" });
assert.equal(typeof admin.listApps, "function");

// Nothing listens on port 1: the failure arrives as a CosyncError.
const auth = new AuthClient({ baseUrl: "http://127.0.0.1:1", appId: "app" });
const err = await auth.getApplication({}).catch((e) => e);
assert.ok(err instanceof CosyncError, String(err));
assert.equal(err.reason, ErrorReason.UNSPECIFIED);
console.log("node esm: ok");
