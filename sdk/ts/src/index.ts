// @cosync/auth: the client an app uses to sign its users in with CoSync Auth.
// `@cosync/auth/admin` holds AdminClient; `@cosync/auth/server` verifyToken.
export { AuthClient, type AuthClientOptions, type SessionListener } from "./auth-client.js";
export { CosyncError, isCosyncError, type FieldViolation } from "./errors.js";
export { memoryStorage, type SessionStorage } from "./storage.js";
export type { Fetch } from "./transport.js";
export * from "./gen/cosync/auth/v1/auth_pb.js";
export * from "./gen/cosync/auth/v1/types_pb.js";
export * from "./gen/cosync/auth/v1/errors_pb.js";
