import { create } from "@bufbuild/protobuf";
import { AppSettingsSchema, AppStatus, RateLimitSchema, type AppSettings } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldSchema, MetadataFieldType, PasswordPolicySchema, SignupFlow, TwoFactorMethod } from "@gen/cosync/auth/v1/types_pb";
import { checkRedirectURL, validateSettings } from "./validate";

const secs = (n: number) => ({ seconds: BigInt(n), nanos: 0 });
/** valid is the server's DefaultSettings. */
const valid = (patch: Partial<AppSettings> = {}): AppSettings => ({
  ...create(AppSettingsSchema, {
    signupEnabled: true,
    signupFlow: SignupFlow.CODE,
    twoFactor: TwoFactorMethod.NONE,
    status: AppStatus.ACTIVE,
    passwordPolicy: create(PasswordPolicySchema, { minLength: 8 }),
    tokenLifetime: secs(3600),
    refreshTokenLifetime: secs(30 * 86400),
    inviteLifetime: secs(7 * 86400),
    locales: ["en"],
    maxLoginAttempts: 10,
  }),
  ...patch,
});
const field = (path: string, type = MetadataFieldType.STRING) => create(MetadataFieldSchema, { path, type });
const limit = (name: string, n: number, windowSecs: number) => create(RateLimitSchema, { name, limit: n, window: secs(windowSecs) });

describe("validateSettings", () => {
  it("accepts the defaults", () => {
    expect(validateSettings(valid())).toEqual({});
  });

  it("accepts rate-limit overrides of known rules", () => {
    expect(validateSettings(valid({ rateLimits: [limit("login:ip", 600, 600), limit("sms:app", 5000, 3600)] }))).toEqual({});
  });

  it.each([
    ["password too short", { passwordPolicy: create(PasswordPolicySchema, { minLength: 6 }) }, "settings.password_policy.min_length", "must be between 8 and 128"],
    ["token lifetime", { tokenLifetime: secs(30) }, "settings.token_lifetime", "must be between 1m and 24h"],
    ["refresh shorter than token", { refreshTokenLifetime: secs(60) }, "settings.refresh_token_lifetime", "must be at least the token lifetime and at most 365 days"],
    ["invite lifetime", { inviteLifetime: secs(91 * 86400) }, "settings.invite_lifetime", "must be between 1h and 90 days"],
    ["no locale", { locales: [] }, "settings.locales", "must list at least one locale"],
    ["bad locale", { locales: ["en", "EN_us"] }, "settings.locales[1]", '"EN_us" is not a locale tag like en or pt-BR'],
    ["reserved claim", { signupMetadataFields: [field("email.x")] }, "settings.signup_metadata_fields[0].path", '"email.x" would overwrite the reserved claim "email"'],
    ["bad path", { inviteMetadataFields: [field("a..b")] }, "settings.invite_metadata_fields[0].path", '"a..b" must be dotted names like user_data.name'],
    ["overlap", { signupMetadataFields: [field("u.a"), field("u.a.b")] }, "settings.signup_metadata_fields[1].path", '"u.a.b" overlaps "u.a"'],
    ["no type", { signupMetadataFields: [field("u.a", MetadataFieldType.UNSPECIFIED)] }, "settings.signup_metadata_fields[0].type", "must be string, number or bool"],
    ["rotation too often", { keyRotation: { $typeName: "cosync.admin.v1.KeyRotation", interval: secs(3600) } }, "settings.key_rotation.interval", "must be zero (by hand) or at least 24h"],
    ["apple without ids", { apple: { $typeName: "cosync.admin.v1.AppleSettings", enabled: true, bundleIds: [] } }, "settings.apple.bundle_ids", "must list at least one bundle id when Apple sign-in is enabled"],
    ["twilio sid", { twilio: { $typeName: "cosync.admin.v1.TwilioSettings", accountSid: "AC1", authToken: "", fromNumber: "", messagingServiceSid: "" } }, "settings.twilio.account_sid", "must be AC followed by 32 hex digits"],
    ["unknown rate limit", { rateLimits: [limit("login:ip", 5, 60), limit("logn:ip", 5, 60)] }, "settings.rate_limits[1].name", `"logn:ip" is not a rate limit (known: login:ip, login:handle, signup:ip, signup:handle, reset:ip, reset:handle, invite:ip, invite:user, code:ip, code:handle, social:ip, sms:number, sms:ip, sms:app)`],
    ["server-wide rate limit", { rateLimits: [limit("invites:app", 5, 60)] }, "settings.rate_limits[0].name", `"invites:app" is a server-wide limit; only the server's configuration changes it`],
    ["lockout as a rate limit", { rateLimits: [limit("login:lock", 5, 60)] }, "settings.rate_limits[0].name", `"login:lock" is the lockout; set max_login_attempts instead`],
    ["rate limit twice", { rateLimits: [limit("code:ip", 5, 60), limit("code:ip", 6, 60)] }, "settings.rate_limits[1].name", `"code:ip" is listed twice`],
    ["rate limit zero", { rateLimits: [limit("code:ip", 0, 60)] }, "settings.rate_limits[0].limit", "limit 0 must be between 1 and 1000000"],
    ["rate limit no window", { rateLimits: [limit("code:ip", 5, 0)] }, "settings.rate_limits[0].window", "window must be between 1s and 720h"],
  ] as const)("refuses %s", (_name, patch, path, reason) => {
    expect(validateSettings(valid(patch as Partial<AppSettings>))[path]).toBe(reason);
  });
});

describe("checkRedirectURL", () => {
  it.each([
    ["https://app.example.com/done", ""],
    ["http://localhost:3000/cb", ""],
    ["myapp://signed-up", ""],
    ["http://example.com/cb", '"http://example.com/cb": plain http is allowed only on localhost'],
    ["javascript:alert(1)", '"javascript:alert(1)": scheme javascript is not allowed'],
    ["/relative", '"/relative" is not an absolute URL'],
  ])("%s", (url, want) => {
    expect(checkRedirectURL(url)).toBe(want);
  });
});
