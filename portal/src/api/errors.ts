// Turns a Connect error into what a person should read: a sentence in plain
// words chosen by the server's machine reason (google.rpc.ErrorInfo), and the
// per-field reasons (google.rpc.BadRequest) to show beside the fields.
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** Problem is an error as the portal shows it. */
export interface Problem {
  /** One sentence for the banner. */
  message: string;
  /** The server's machine reason (e.g. "INVALID_CODE"), or "" when there was none. */
  reason: string;
  code: Code;
  /** Field path (as the server names it, e.g. "settings.token_lifetime") to its reason. */
  fields: Record<string, string>;
}

const plain: Record<string, string> = {
  INVALID_ARGUMENT: "Some fields need fixing; see the notes beside them.",
  INVALID_CREDENTIALS: "That email and password do not match an account.",
  ACCOUNT_LOCKED: "Too many failed sign-ins from this device. Wait a few minutes, then try again.",
  ACCOUNT_SUSPENDED: "This account is suspended. Ask the server's operator.",
  RATE_LIMITED: "Too many attempts in a short time. Wait a moment, then try again.",
  REQUEST_TOO_LARGE: "That is more than one request may carry. Send less at a time.",
  INVALID_CODE: "That code is not right. Check it and try again.",
  CODE_EXPIRED: "That code has expired. Ask for a new one.",
  TOO_MANY_ATTEMPTS: "Too many wrong codes. Ask for a new code.",
  LOGIN_TOKEN_INVALID: "This sign-in has ended. Start again with your email and password.",
  LOGIN_TOKEN_EXPIRED: "This sign-in took too long. Start again with your email and password.",
  PASSWORD_POLICY: "The new password does not meet the password rules.",
  TOKEN_MISSING: "Your session has ended. Sign in again.",
  TOKEN_INVALID: "Your session has ended. Sign in again.",
  TOKEN_EXPIRED: "Your session has ended. Sign in again.",
  SESSION_REVOKED: "Your session was signed out. Sign in again.",
  REFRESH_TOKEN_INVALID: "Your session has ended. Sign in again.",
  REFRESH_TOKEN_REUSED: "Your session was signed out for safety. Sign in again.",
  REFRESH_TOKEN_EXPIRED: "Your session has ended. Sign in again.",
  PERMISSION_DENIED: "Your role in this application does not allow that.",
  NOT_FOUND: "That no longer exists; it may have been deleted.",
  APP_NOT_FOUND: "That application does not exist, or you are not one of its members.",
  APP_SUSPENDED: "That application is suspended.",
  BUILTIN_APP: "The built-in console application cannot be changed this way.",
  LOCALE_UNSUPPORTED: "That locale is not one of this application's locales. Add it in Settings first.",
  METADATA_INVALID: "Some metadata values do not fit the application's metadata fields.",
  REDIRECT_NOT_ALLOWED: "That redirect URL is not in the application's list.",
  INVITES_DISABLED: "Invitations are turned off for this application. Turn them on in Settings, under Sign-up.",
  SIGNUP_DISABLED: "Sign-up is turned off.",
  OUTBOX_DISABLED: "This server sends mail for real, so it keeps no outbox to show.",
  ALREADY_EXISTS: "That already exists.",
  API_KEY_INVALID: "That API key is unknown, revoked or expired.",
  LAST_OWNER: "An application needs at least one owner. Make someone else an owner first.",
  DEVELOPER_TWO_FACTOR_REQUIRED: "This server requires a second factor for every developer. Set one up under Account first.",
  OPERATOR_ONLY: "Only the server's operator may do that.",
  SIGNER_UNAVAILABLE: "The signing service is unavailable right now. Try again shortly.",
  MAIL_UNAVAILABLE: "Mail cannot be sent right now. Try again shortly.",
  UNAVAILABLE: "The server is unavailable right now. Try again shortly.",
  NOT_IMPLEMENTED: "The server cannot do this yet.",
  INTERNAL: "The server failed. Try again; if it keeps failing, its log says why.",
  FAILED_PRECONDITION: "That cannot be done in the current state.",
};

const byCode: Partial<Record<Code, string>> = {
  [Code.Unavailable]: "Cannot reach the server. Check that it is running, then try again.",
  [Code.DeadlineExceeded]: "The server took too long to answer. Try again.",
  [Code.Unauthenticated]: "Your session has ended. Sign in again.",
  [Code.PermissionDenied]: plain.PERMISSION_DENIED,
  [Code.NotFound]: plain.NOT_FOUND,
  [Code.Unimplemented]: plain.NOT_IMPLEMENTED,
  [Code.ResourceExhausted]: plain.RATE_LIMITED,
  [Code.InvalidArgument]: plain.INVALID_ARGUMENT,
  [Code.Internal]: plain.INTERNAL,
};

/** problemOf describes any thrown value; non-Connect errors read as the server being unreachable. */
export function problemOf(err: unknown): Problem {
  const ce = ConnectError.from(err);
  let reason = "";
  const fields: Record<string, string> = {};
  for (const d of ce.details) {
    if (!("type" in d) || !ArrayBuffer.isView(d.value)) continue;
    const type = d.type;
    try {
      if (type === "google.rpc.ErrorInfo") reason = readErrorInfoReason(d.value);
      if (type === "google.rpc.BadRequest") Object.assign(fields, readFieldViolations(d.value));
    } catch {
      // A detail we cannot read leaves the code's own wording.
    }
  }
  const message = plain[reason] ?? byCode[ce.code] ?? (ce.rawMessage || "Something went wrong. Try again.");
  return { message, reason, code: ce.code, fields };
}

function readErrorInfoReason(b: Uint8Array): string {
  const r = new BinaryReader(b);
  let reason = "";
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) reason = r.string();
    else r.skip(wt, no);
  }
  return reason;
}

function readFieldViolations(b: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const v = new BinaryReader(r.bytes());
    let field = "";
    let description = "";
    while (v.pos < v.len) {
      const [fno, fwt] = v.tag();
      if (fno === 1 && fwt === WireType.LengthDelimited) field = v.string();
      else if (fno === 2 && fwt === WireType.LengthDelimited) description = v.string();
      else v.skip(fwt, fno);
    }
    if (field) out[field] = out[field] ? `${out[field]}; ${description}` : description;
  }
  return out;
}

/** fieldsUnder returns the violations whose path starts with prefix, keyed by the rest of the path. */
export function fieldsUnder(fields: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}
