// Errors as the server sends them: a Connect code plus a google.rpc.ErrorInfo
// detail whose reason names an ErrorReason (errors.proto), a BadRequest with
// the offending fields, and a RetryInfo when the call may be retried later
// (internal/rpc/errors.go). The details arrive as binary protobuf; the three
// messages are small and stable, so they are read here with the wire reader
// instead of shipping google/rpc descriptors in every bundle.
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { ErrorReason } from "./gen/cosync/auth/v1/errors_pb.js";

/** FieldViolation names one invalid request field (snake_case, as in the proto). */
export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * CosyncError is every error an {@link AuthClient} or AdminClient call throws.
 * It is a ConnectError (code, metadata, raw details are all there) that also
 * carries the server's machine reason as a typed {@link ErrorReason}: branch on
 * `err.reason`, never on the message text.
 */
export class CosyncError extends ConnectError {
  /** The reason, or ErrorReason.UNSPECIFIED when the server sent none this SDK knows. */
  readonly reason: ErrorReason;
  /** The reason exactly as sent (e.g. "INVALID_CODE"), also for reasons newer than this SDK; "" when none. */
  readonly reasonName: string;
  /** The invalid fields of the request, for invalid_argument errors; empty otherwise. */
  readonly violations: FieldViolation[];
  /** Seconds to wait before retrying, when the server said (rate limits). */
  readonly retryAfterSeconds: number | undefined;

  private constructor(from: ConnectError) {
    super(from.rawMessage, from.code, from.metadata, undefined, from.cause ?? from);
    this.details = from.details;
    this.isWireError = from.isWireError;
    let reasonName = "";
    let retryAfter: number | undefined;
    const violations: FieldViolation[] = [];
    for (const d of from.details) {
      if (!("type" in d) || !(d.value instanceof Uint8Array)) continue;
      try {
        switch (d.type) {
          case "google.rpc.ErrorInfo":
            reasonName = readErrorInfoReason(d.value);
            break;
          case "google.rpc.BadRequest":
            violations.push(...readFieldViolations(d.value));
            break;
          case "google.rpc.RetryInfo":
            retryAfter = readRetryDelaySeconds(d.value);
            break;
        }
      } catch {
        // A malformed detail leaves the error as it is; the code still holds.
      }
    }
    this.reasonName = reasonName;
    this.reason = reasonFromName(reasonName);
    this.violations = violations;
    this.retryAfterSeconds = retryAfter;
  }

  /** from converts anything thrown by a call (a ConnectError, a network error) into a CosyncError. */
  static override from(reason: unknown, code = Code.Unknown): CosyncError {
    if (reason instanceof CosyncError) return reason;
    return new CosyncError(ConnectError.from(reason, code));
  }

  // ConnectError recognises its instances by shape; a CosyncError must be one
  // that was built as such, so a plain ConnectError does not pass for it.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.prototype.isPrototypeOf.call(CosyncError.prototype, v);
  }
}

/**
 * isCosyncError tells whether err is a CosyncError, and when reasons are
 * given, whether it carries one of them (then `err.reason` is typed as those).
 *
 *     if (isCosyncError(err, ErrorReason.INVALID_CODE)) askAgain();
 */
export function isCosyncError<R extends ErrorReason = ErrorReason>(
  err: unknown,
  ...reasons: R[]
): err is CosyncError & { readonly reason: R } {
  return err instanceof CosyncError && (reasons.length === 0 || (reasons as ErrorReason[]).includes(err.reason));
}

function reasonFromName(name: string): ErrorReason {
  if (name === "") return ErrorReason.UNSPECIFIED;
  const v = (ErrorReason as unknown as Record<string, unknown>)[name];
  return typeof v === "number" ? (v as ErrorReason) : ErrorReason.UNSPECIFIED;
}

// google.rpc.ErrorInfo: string reason = 1; string domain = 2; map metadata = 3.
function readErrorInfoReason(b: Uint8Array): string {
  let reason = "";
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) reason = r.string();
    else r.skip(wt, no);
  }
  return reason;
}

// google.rpc.BadRequest: repeated FieldViolation field_violations = 1;
// FieldViolation: string field = 1; string description = 2.
function readFieldViolations(b: Uint8Array): FieldViolation[] {
  const out: FieldViolation[] = [];
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const v = new BinaryReader(r.bytes());
    const fv: FieldViolation = { field: "", description: "" };
    while (v.pos < v.len) {
      const [n, w] = v.tag();
      if (n === 1 && w === WireType.LengthDelimited) fv.field = v.string();
      else if (n === 2 && w === WireType.LengthDelimited) fv.description = v.string();
      else v.skip(w, n);
    }
    out.push(fv);
  }
  return out;
}

// google.rpc.RetryInfo: google.protobuf.Duration retry_delay = 1;
// Duration: int64 seconds = 1; int32 nanos = 2.
function readRetryDelaySeconds(b: Uint8Array): number | undefined {
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const d = new BinaryReader(r.bytes());
    let seconds = 0;
    let nanos = 0;
    while (d.pos < d.len) {
      const [n, w] = d.tag();
      if (n === 1 && w === WireType.Varint) seconds = Number(d.int64());
      else if (n === 2 && w === WireType.Varint) nanos = d.int32();
      else d.skip(w, n);
    }
    return seconds + nanos / 1e9;
  }
  return undefined;
}
