// The browser's copy of the server's settings checks (internal/identity
// settings.go Validate, limits.go checkRateLimits and phone.go checkTwilio), so a developer sees the
// same reasons beside the same fields before saving. Keys are the server's
// violation paths ("settings.token_lifetime", "settings.locales[1]").
import type { AppSettings, RateLimit } from "@gen/cosync/admin/v1/types_pb";
import { AppStatus } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldType, SignupFlow, TwoFactorMethod, type MetadataField } from "@gen/cosync/auth/v1/types_pb";

export const MinPasswordLength = 8;
const minute = 60;
const hour = 3600;
const day = 86400;

const pathSegment = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const localeRE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const schemeRE = /^[a-z][a-z0-9+.-]*$/;
const e164 = /^\+[1-9][0-9]{6,14}$/;
/** Claims the server sets itself; a metadata path may not start with one. */
export const reservedClaims = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "email", "user_name"]);

const secs = (d: { seconds: bigint } | undefined): number => (d ? Number(d.seconds) : 0);

/** validateSettings returns every violation of the settings, keyed by the server's field path. */
export function validateSettings(s: AppSettings): Record<string, string> {
  const out: Record<string, string> = {};
  const bad = (field: string, msg: string) => {
    const k = `settings.${field}`;
    out[k] = out[k] ? `${out[k]}; ${msg}` : msg;
  };
  if (![SignupFlow.CODE, SignupFlow.LINK, SignupFlow.NONE].includes(s.signupFlow)) bad("signup_flow", "must be code, link or none");
  if (![TwoFactorMethod.NONE, TwoFactorMethod.TOTP, TwoFactorMethod.SMS].includes(s.twoFactor))
    bad("two_factor", "must be none, totp or sms");
  if (![AppStatus.ACTIVE, AppStatus.SUSPENDED].includes(s.status)) bad("status", "must be active or suspended");
  const minLen = s.passwordPolicy?.minLength ?? 0;
  if (minLen < MinPasswordLength || minLen > 128) bad("password_policy.min_length", `must be between ${MinPasswordLength} and 128`);
  const life = secs(s.tokenLifetime);
  if (life < minute || life > day) bad("token_lifetime", "must be between 1m and 24h");
  const refresh = secs(s.refreshTokenLifetime);
  if (refresh < life || refresh > 365 * day) bad("refresh_token_lifetime", "must be at least the token lifetime and at most 365 days");
  const invite = secs(s.inviteLifetime);
  if (invite < hour || invite > 90 * day) bad("invite_lifetime", "must be between 1h and 90 days");
  if (s.maxLoginAttempts < 0) bad("max_login_attempts", "must not be negative");
  if (s.maxLoginAttempts > 1000) bad("max_login_attempts", "must be at most 1000");
  if (s.locales.length === 0) bad("locales", "must list at least one locale");
  const seen = new Set<string>();
  s.locales.forEach((l, i) => {
    if (!localeRE.test(l)) bad(`locales[${i}]`, `"${l}" is not a locale tag like en or pt-BR`);
    if (seen.has(l)) bad(`locales[${i}]`, `"${l}" is listed twice`);
    seen.add(l);
  });
  Object.assign(out, checkMetadataFields("signup_metadata_fields", s.signupMetadataFields));
  Object.assign(out, checkMetadataFields("invite_metadata_fields", s.inviteMetadataFields));
  s.redirectUrls.forEach((u, i) => {
    const why = checkRedirectURL(u);
    if (why) bad(`redirect_urls[${i}]`, why);
  });
  const interval = secs(s.keyRotation?.interval);
  if (interval !== 0 && interval < day) bad("key_rotation.interval", "must be zero (by hand) or at least 24h");
  const retire = secs(s.keyRotation?.retireAfter);
  if (retire !== 0 && retire < life) bad("key_rotation.retire_after", "must be zero (token lifetime + 1h) or at least the token lifetime");
  if (s.apple?.enabled && s.apple.bundleIds.length === 0)
    bad("apple.bundle_ids", "must list at least one bundle id when Apple sign-in is enabled");
  if (s.google?.enabled && s.google.clientIds.length === 0)
    bad("google.client_ids", "must list at least one client id when Google sign-in is enabled");
  if (s.audience.length > 10) bad("audience", "must list at most 10 values");
  s.audience.forEach((a, i) => {
    if (a.length < 1 || a.length > 256) bad(`audience[${i}]`, "must be 1 to 256 characters");
  });
  const tw = s.twilio;
  if (tw?.accountSid && !/^AC[0-9a-fA-F]{32}$/.test(tw.accountSid)) bad("twilio.account_sid", "must be AC followed by 32 hex digits");
  if (tw?.fromNumber && !e164.test(tw.fromNumber)) bad("twilio.from_number", "must be a phone number in E.164 form, e.g. +14155550100");
  if (tw?.messagingServiceSid && !/^MG[0-9a-fA-F]{32}$/.test(tw.messagingServiceSid))
    bad("twilio.messaging_service_sid", "must be MG followed by 32 hex digits");
  if (tw?.authToken && !tw.authToken.startsWith("****") && !/^[A-Za-z0-9]{16,128}$/.test(tw.authToken))
    bad("twilio.auth_token", "must be the account's auth token: 16 to 128 letters and digits");
  if (s.authenticatorLabel.length > 64) bad("authenticator_label", "must be at most 64 characters");
  if (s.emailFrom.length > 254) bad("email_from", "must be at most 254 characters");
  Object.assign(out, checkRateLimits(s.rateLimits));
  return out;
}

/** appLimitNames are the rules an app may override (internal/identity limits.go AppLimit), in the server's order. */
export const appLimitNames = [
  "login:ip",
  "login:handle",
  "signup:ip",
  "signup:handle",
  "reset:ip",
  "reset:handle",
  "invite:ip",
  "invite:user",
  "code:ip",
  "code:handle",
  "social:ip",
  "sms:number",
  "sms:ip",
  "sms:app",
];
/** serverOnlyLimitNames bound developers; only the server's configuration changes them. */
export const serverOnlyLimitNames = ["invites:app", "invites:developer", "apps:developer", "testsend:app", "testsend:developer"];
const maxLimitCount = 1_000_000;
const maxLimitWindow = 30 * day;

/** checkRateLimits checks an app's overrides as the server does (identity checkRateLimits). */
export function checkRateLimits(limits: RateLimit[]): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  limits.forEach((l, i) => {
    const at = `settings.rate_limits[${i}]`;
    if (l.name === "login:lock") {
      out[`${at}.name`] = `"${l.name}" is the lockout; set max_login_attempts instead`;
      return;
    }
    if (!appLimitNames.includes(l.name)) {
      out[`${at}.name`] = serverOnlyLimitNames.includes(l.name)
        ? `"${l.name}" is a server-wide limit; only the server's configuration changes it`
        : `"${l.name}" is not a rate limit (known: ${appLimitNames.join(", ")})`;
      return;
    }
    if (l.limit < 1 || l.limit > maxLimitCount) {
      out[`${at}.limit`] = `limit ${l.limit} must be between 1 and ${maxLimitCount}`;
      return;
    }
    const w = l.window ? Number(l.window.seconds) + l.window.nanos / 1e9 : 0;
    if (w < 1 || w > maxLimitWindow) {
      out[`${at}.window`] = "window must be between 1s and 720h";
      return;
    }
    if (seen.has(l.name)) out[`${at}.name`] = `"${l.name}" is listed twice`;
    seen.add(l.name);
  });
  return out;
}

/** checkMetadataFields checks one list of metadata fields as the server does. */
export function checkMetadataFields(name: string, fields: MetadataField[]): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (k: string, msg: string) => (out[k] = out[k] ? `${out[k]}; ${msg}` : msg);
  const seen: string[] = [];
  fields.forEach((f, i) => {
    const at = `settings.${name}[${i}]`;
    const segs = f.path.split(".");
    const ok = f.path !== "" && segs.every((seg) => pathSegment.test(seg));
    if (!ok) add(`${at}.path`, `"${f.path}" must be dotted names like user_data.name`);
    else if (reservedClaims.has(segs[0])) add(`${at}.path`, `"${f.path}" would overwrite the reserved claim "${segs[0]}"`);
    for (const p of seen) {
      if (p === f.path || p.startsWith(f.path + ".") || f.path.startsWith(p + ".")) add(`${at}.path`, `"${f.path}" overlaps "${p}"`);
    }
    seen.push(f.path);
    if (![MetadataFieldType.STRING, MetadataFieldType.NUMBER, MetadataFieldType.BOOL].includes(f.type))
      add(`${at}.type`, "must be string, number or bool");
  });
  if (fields.length > 50) add(`settings.${name}`, "must list at most 50 fields");
  return out;
}

/** checkRedirectURL allows https, http only on loopback, and app schemes; never javascript:, data: or file:. */
export function checkRedirectURL(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `"${raw}" is not an absolute URL`;
  }
  const s = u.protocol.replace(/:$/, "").toLowerCase();
  if (s === "https") return u.host === "" ? `"${raw}" has no host` : "";
  if (s === "http") {
    const h = u.hostname.replace(/^\[|\]$/g, "");
    return ["localhost", "127.0.0.1", "::1"].includes(h) ? "" : `"${raw}": plain http is allowed only on localhost`;
  }
  if (["javascript", "data", "file", "vbscript", "blob"].includes(s)) return `"${raw}": scheme ${s} is not allowed`;
  if (!schemeRE.test(s)) return `"${raw}" has a bad scheme`;
  return "";
}
