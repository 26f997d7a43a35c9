// Every setting of an application, in groups; each group saves only what
// changed in it (an UpdateApp field mask), checked first in the browser as
// the server checks, with the server's own reasons shown beside the field.
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DurationSchema, FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useMutation } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { AppSettingsSchema, AppStatus, MemberRole, type App, type AppSettings as Settings } from "@gen/cosync/admin/v1/types_pb";
import { SignupFlow, TwoFactorMethod } from "@gen/cosync/auth/v1/types_pb";
import { fieldsUnder, problemOf, type Problem } from "../api/errors";
import { formatDuration, parseDuration, splitList } from "../api/format";
import { MetadataFieldsEditor } from "../settings/MetadataFieldsEditor";
import { RateLimitsEditor } from "../settings/RateLimitsEditor";
import { validateSettings } from "../settings/validate";
import { CheckboxField, SelectField, TextAreaField, TextField } from "../ui/fields";
import { ErrorBanner, Notice } from "../ui/feedback";

/** Draft is what the settings form edits: the name and the settings. */
interface Draft {
  name: string;
  settings: Settings;
}

interface Group {
  id: string;
  title: string;
  /** UpdateApp mask paths this group owns. */
  paths: string[];
}

export const groups: Group[] = [
  { id: "general", title: "General", paths: ["name", "settings.status", "settings.email_from"] },
  {
    id: "signup",
    title: "Sign-up and invitations",
    paths: [
      "settings.signup_enabled",
      "settings.signup_flow",
      "settings.redirect_urls",
      "settings.signup_metadata_fields",
      "settings.invites_enabled",
      "settings.invite_lifetime",
      "settings.invite_metadata_fields",
    ],
  },
  {
    id: "signin",
    title: "Sign-in",
    paths: [
      "settings.anonymous_login_enabled",
      "settings.user_names_enabled",
      "settings.max_login_attempts",
      "settings.apple",
      "settings.google",
      "settings.link_verified_emails",
      "settings.social_skips_two_factor",
    ],
  },
  {
    id: "twofactor",
    title: "Second factor and SMS",
    paths: [
      "settings.two_factor",
      "settings.authenticator_label",
      "settings.totp_qr_mail",
      "settings.twilio.account_sid",
      "settings.twilio.auth_token",
      "settings.twilio.from_number",
      "settings.twilio.messaging_service_sid",
    ],
  },
  { id: "passwords", title: "Password policy", paths: ["settings.password_policy"] },
  { id: "limits", title: "Rate limits", paths: ["settings.rate_limits"] },
  {
    id: "tokens",
    title: "Tokens and keys",
    paths: ["settings.audience", "settings.email_claim", "settings.token_lifetime", "settings.refresh_token_lifetime", "settings.key_rotation"],
  },
  { id: "mail", title: "Languages", paths: ["settings.locales"] },
  {
    id: "cosyncjwt",
    title: "Moving from CosyncJWT",
    paths: ["settings.cosyncjwt_app_token", "settings.md5_prehashed_passwords"],
  },
];

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** valueAt reads a mask path ("settings.password_policy") from a draft. */
export function valueAt(d: Draft, path: string): unknown {
  let v: unknown = d;
  for (const seg of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[camel(seg)];
  }
  return v;
}

const stable = (v: unknown) => JSON.stringify(v, (k, x: unknown) => (k === "$typeName" ? undefined : typeof x === "bigint" ? x.toString() : x));

/** changedPaths lists the paths of a group whose value differs between two drafts. */
export function changedPaths(paths: string[], from: Draft, to: Draft): string[] {
  return paths.filter((p) => stable(valueAt(from, p)) !== stable(valueAt(to, p)));
}

/** errorFor collects the violations of a path and of its items ("settings.locales[1]"). */
function errorFor(errors: Record<string, string>, path: string): string | undefined {
  const msgs = Object.entries(errors)
    .filter(([k]) => k === path || k.startsWith(path + "["))
    .map(([, v]) => v);
  return msgs.length ? msgs.join("; ") : undefined;
}

const flows = [
  { value: SignupFlow.CODE, label: "A six-digit code by mail" },
  { value: SignupFlow.LINK, label: "A link by mail" },
  { value: SignupFlow.NONE, label: "No confirmation" },
];
const factors = [
  { value: TwoFactorMethod.NONE, label: "None" },
  { value: TwoFactorMethod.TOTP, label: "Authenticator app (TOTP)" },
  { value: TwoFactorMethod.SMS, label: "SMS code (Twilio)" },
];
const statuses = [
  { value: AppStatus.ACTIVE, label: "Active" },
  { value: AppStatus.SUSPENDED, label: "Suspended (refuses every sign-in)" },
];

export function AppSettingsPage({ app }: { app: App }) {
  const initial = useMemo<Draft>(() => ({ name: app.name, settings: app.settings ?? create(AppSettingsSchema) }), [app]);
  const [saved, setSaved] = useState<Draft>(initial);
  const [draft, setDraft] = useState<Draft>(initial);
  // Text the developer is typing in list and duration fields, kept as typed.
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [textErrors, setTextErrors] = useState<Record<string, string>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, Problem | null>>({});
  const [notes, setNotes] = useState<Record<string, string>>({});
  const qc = useQueryClient();
  const update = useMutation(AdminService.method.updateApp);
  const readOnly = app.role === MemberRole.VIEWER;

  const s = draft.settings;
  const clientErrors = useMemo(() => validateSettings(draft.settings), [draft.settings]);
  const touched = new Set(groups.flatMap((g) => changedPaths(g.paths, saved, draft)));
  const err = (path: string): string | undefined =>
    textErrors[path] ?? errorFor(serverErrors, path) ?? ([...touched].some((t) => path.startsWith(t)) ? errorFor(clientErrors, path) : undefined);

  const setS = (patch: Partial<Settings>) => setDraft((d) => ({ ...d, settings: { ...d.settings, ...patch } }));

  const listField = (path: string, label: string, get: (s: Settings) => string[], put: (v: string[]) => Partial<Settings>, hint: ReactNode) => (
    <TextAreaField
      label={label}
      rows={2}
      value={texts[path] ?? get(s).join("\n")}
      onChange={(v) => {
        setTexts((t) => ({ ...t, [path]: v }));
        setS(put(splitList(v)));
      }}
      hint={hint}
      error={err(path)}
      disabled={readOnly}
    />
  );

  const durationField = (path: string, label: string, get: (s: Settings) => { seconds: bigint } | undefined, put: (secs: number) => Partial<Settings>, hint: ReactNode) => (
    <TextField
      label={label}
      value={texts[path] ?? formatDuration(get(s) ? create(DurationSchema, { seconds: get(s)?.seconds ?? 0n }) : undefined)}
      onChange={(v) => {
        setTexts((t) => ({ ...t, [path]: v }));
        const secs = parseDuration(v);
        setTextErrors((e) => {
          const next = { ...e };
          if (secs === undefined) next[path] = "Write a duration like 90m, 1h or 7d.";
          else delete next[path];
          return next;
        });
        if (secs !== undefined) setS(put(secs));
      }}
      hint={hint}
      error={err(path)}
      disabled={readOnly}
    />
  );
  const dur = (secs: number) => create(DurationSchema, { seconds: BigInt(secs) });

  const save = (g: Group) => (e: FormEvent) => {
    e.preventDefault();
    const paths = changedPaths(g.paths, saved, draft);
    setNotes((n) => ({ ...n, [g.id]: "" }));
    setProblems((p) => ({ ...p, [g.id]: null }));
    if (paths.length === 0) {
      setNotes((n) => ({ ...n, [g.id]: "Nothing changed in this group." }));
      return;
    }
    const blocking = Object.keys({ ...clientErrors, ...textErrors }).filter((k) => g.paths.some((p) => k === p || k.startsWith(p)));
    if (blocking.length) {
      setProblems((p) => ({ ...p, [g.id]: { message: "Some fields need fixing; see the notes beside them.", reason: "", code: Code.InvalidArgument, fields: {} } }));
      return;
    }
    update.mutate(
      { appId: app.id, name: draft.name, settings: draft.settings, updateMask: create(FieldMaskSchema, { paths }) },
      {
        onSuccess: async (res) => {
          if (res.app) {
            const next: Draft = { name: res.app.name, settings: res.app.settings ?? draft.settings };
            setSaved(next);
            setDraft((d) => {
              // Take the server's values for what was saved (e.g. the masked Twilio token).
              let out = d;
              for (const p of paths) out = p === "name" ? { ...out, name: next.name } : out;
              return { ...out, settings: mergeSaved(out.settings, next.settings, paths) };
            });
          }
          setServerErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !g.paths.some((p) => k.startsWith(p)))));
          setNotes((n) => ({ ...n, [g.id]: "Saved." }));
          await qc.invalidateQueries();
        },
        onError: (er) => {
          const p = problemOf(er);
          setProblems((x) => ({ ...x, [g.id]: p }));
          setServerErrors((e) => ({ ...e, ...p.fields }));
        },
      },
    );
  };

  const section = (id: string, children: ReactNode) => {
    const g = groups.find((x) => x.id === id);
    if (!g) return null;
    const dirty = changedPaths(g.paths, saved, draft).length > 0;
    return (
      <form className="card" onSubmit={save(g)} noValidate aria-labelledby={`group-${g.id}`}>
        <h2 id={`group-${g.id}`}>{g.title}</h2>
        <ErrorBanner problem={problems[g.id]} />
        {children}
        {readOnly ? null : (
          <div className="actions">
            <button type="submit" disabled={update.isPending}>
              Save {g.title.charAt(0).toLowerCase() + g.title.slice(1)}
            </button>
            {dirty ? <span className="hint">Unsaved changes</span> : null}
          </div>
        )}
        <Notice>{notes[g.id]}</Notice>
      </form>
    );
  };

  return (
    <>
      {readOnly ? <Notice>You are a viewer of this application: you can read its settings but not change them.</Notice> : null}
      {section(
        "general",
        <>
          <TextField label="Name" value={draft.name} onChange={(v) => setDraft((d) => ({ ...d, name: v }))} error={err("name")} disabled={readOnly} />
          <SelectField label="Status" value={s.status} onChange={(v) => setS({ status: v })} options={statuses} error={err("settings.status")} disabled={readOnly} />
          <TextField
            label="From address for mail"
            type="email"
            value={s.emailFrom}
            onChange={(v) => setS({ emailFrom: v })}
            hint="Empty uses the server's address."
            error={err("settings.email_from")}
            disabled={readOnly}
          />
        </>,
      )}
      {section(
        "signup",
        <>
          <CheckboxField label="Users may sign up" checked={s.signupEnabled} onChange={(v) => setS({ signupEnabled: v })} disabled={readOnly} />
          <SelectField
            label="How a new user confirms their email"
            value={s.signupFlow}
            onChange={(v) => setS({ signupFlow: v })}
            options={flows}
            error={err("settings.signup_flow")}
            disabled={readOnly}
          />
          {listField("settings.redirect_urls", "Redirect URLs after a sign-up link", (x) => x.redirectUrls, (v) => ({ redirectUrls: v }), "One a line: https, http on localhost, or your app's scheme (myapp://done).")}
          <MetadataFieldsEditor
            legend="Sign-up metadata fields"
            fields={s.signupMetadataFields}
            onChange={(f) => setS({ signupMetadataFields: f })}
            errors={fieldsUnder(touched.has("settings.signup_metadata_fields") ? { ...clientErrors, ...serverErrors } : serverErrors, "settings.signup_metadata_fields")}
            disabled={readOnly}
          />
          <CheckboxField label="Users and developers may send invitations" checked={s.invitesEnabled} onChange={(v) => setS({ invitesEnabled: v })} disabled={readOnly} />
          {durationField("settings.invite_lifetime", "An invitation stays valid for", (x) => x.inviteLifetime, (n) => ({ inviteLifetime: dur(n) }), "Between 1h and 90d; default 7d.")}
          <MetadataFieldsEditor
            legend="Invitation metadata fields"
            fields={s.inviteMetadataFields}
            onChange={(f) => setS({ inviteMetadataFields: f })}
            errors={fieldsUnder(touched.has("settings.invite_metadata_fields") ? { ...clientErrors, ...serverErrors } : serverErrors, "settings.invite_metadata_fields")}
            disabled={readOnly}
          />
        </>,
      )}
      {section(
        "signin",
        <>
          <CheckboxField label="Anonymous sign-in" checked={s.anonymousLoginEnabled} onChange={(v) => setS({ anonymousLoginEnabled: v })} disabled={readOnly} />
          <CheckboxField label="Users may pick a user name" checked={s.userNamesEnabled} onChange={(v) => setS({ userNamesEnabled: v })} disabled={readOnly} />
          <TextField
            label="Failed sign-ins before the account locks"
            type="number"
            value={String(s.maxLoginAttempts)}
            onChange={(v) => setS({ maxLoginAttempts: Number.parseInt(v || "0", 10) || 0 })}
            hint="The lock backs off; 0 turns it off (rate limits still apply)."
            error={err("settings.max_login_attempts")}
            disabled={readOnly}
          />
          <CheckboxField
            label="Sign in with Apple"
            checked={s.apple?.enabled ?? false}
            onChange={(v) => setS({ apple: { ...(s.apple ?? { $typeName: "cosync.admin.v1.AppleSettings", bundleIds: [] }), enabled: v } })}
            disabled={readOnly}
          />
          {listField("settings.apple.bundle_ids", "Apple bundle ids and Services ids", (x) => x.apple?.bundleIds ?? [], (v) => ({ apple: { $typeName: "cosync.admin.v1.AppleSettings", enabled: s.apple?.enabled ?? false, bundleIds: v } }), "One a line.")}
          <CheckboxField
            label="Sign in with Google"
            checked={s.google?.enabled ?? false}
            onChange={(v) => setS({ google: { ...(s.google ?? { $typeName: "cosync.admin.v1.GoogleSettings", clientIds: [] }), enabled: v } })}
            disabled={readOnly}
          />
          {listField("settings.google.client_ids", "Google OAuth client ids", (x) => x.google?.clientIds ?? [], (v) => ({ google: { $typeName: "cosync.admin.v1.GoogleSettings", enabled: s.google?.enabled ?? false, clientIds: v } }), "One a line.")}
          <CheckboxField
            label="Link Apple or Google to an existing account with the same verified email"
            checked={s.linkVerifiedEmails}
            onChange={(v) => setS({ linkVerifiedEmails: v })}
            disabled={readOnly}
          />
          <CheckboxField
            label="Skip the second factor on Apple or Google sign-in"
            checked={s.socialSkipsTwoFactor}
            onChange={(v) => setS({ socialSkipsTwoFactor: v })}
            disabled={readOnly}
          />
        </>,
      )}
      {section(
        "twofactor",
        <>
          <SelectField label="Second factor" value={s.twoFactor} onChange={(v) => setS({ twoFactor: v })} options={factors} error={err("settings.two_factor")} disabled={readOnly} />
          <TextField
            label="Name in authenticator apps"
            value={s.authenticatorLabel}
            onChange={(v) => setS({ authenticatorLabel: v })}
            hint="Default: the application's name."
            error={err("settings.authenticator_label")}
            disabled={readOnly}
          />
          <CheckboxField
            label="Mail the authenticator QR code when a user enrolls (as CosyncJWT did)"
            checked={s.totpQrMail}
            onChange={(v) => setS({ totpQrMail: v })}
            hint="Risky: whoever reads the user's mailbox could add the authenticator too. Leave off unless your app relies on the mail."
            disabled={readOnly}
          />
          <fieldset>
            <legend>Twilio (for SMS)</legend>
            {(["accountSid", "authToken", "fromNumber", "messagingServiceSid"] as const).map((k) => {
              const path = `settings.twilio.${k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())}`;
              const labels = { accountSid: "Account SID", authToken: "Auth token", fromNumber: "Sender number", messagingServiceSid: "Messaging service SID" };
              const hints = {
                accountSid: "AC followed by 32 hex digits.",
                authToken: "Write-only: the server shows only its last four characters.",
                fromNumber: "E.164, e.g. +14155550100; or use a messaging service.",
                messagingServiceSid: "MG followed by 32 hex digits.",
              };
              return (
                <TextField
                  key={k}
                  label={labels[k]}
                  type={k === "authToken" ? "password" : "text"}
                  autoComplete="off"
                  value={s.twilio?.[k] ?? ""}
                  onChange={(v) =>
                    setS({
                      twilio: {
                        $typeName: "cosync.admin.v1.TwilioSettings",
                        accountSid: s.twilio?.accountSid ?? "",
                        authToken: s.twilio?.authToken ?? "",
                        fromNumber: s.twilio?.fromNumber ?? "",
                        messagingServiceSid: s.twilio?.messagingServiceSid ?? "",
                        [k]: v,
                      },
                    })
                  }
                  hint={hints[k]}
                  error={err(path)}
                  disabled={readOnly}
                />
              );
            })}
          </fieldset>
        </>,
      )}
      {section(
        "passwords",
        <>
          <TextField
            label="Minimum length"
            type="number"
            value={String(s.passwordPolicy?.minLength ?? 8)}
            onChange={(v) => setS({ passwordPolicy: { ...policy(s), minLength: Number.parseInt(v || "0", 10) || 0 } })}
            hint="8 to 128; NIST SP 800-63B asks for at least 8."
            error={err("settings.password_policy.min_length")}
            disabled={readOnly}
          />
          <CheckboxField label="Require an upper-case letter" checked={policy(s).requireUpper} onChange={(v) => setS({ passwordPolicy: { ...policy(s), requireUpper: v } })} disabled={readOnly} />
          <CheckboxField label="Require a lower-case letter" checked={policy(s).requireLower} onChange={(v) => setS({ passwordPolicy: { ...policy(s), requireLower: v } })} disabled={readOnly} />
          <CheckboxField label="Require a digit" checked={policy(s).requireDigit} onChange={(v) => setS({ passwordPolicy: { ...policy(s), requireDigit: v } })} disabled={readOnly} />
          <CheckboxField label="Require a special character" checked={policy(s).requireSpecial} onChange={(v) => setS({ passwordPolicy: { ...policy(s), requireSpecial: v } })} disabled={readOnly} />
        </>,
      )}
      {section(
        "limits",
        <RateLimitsEditor
          limits={s.rateLimits}
          effective={app.effectiveRateLimits}
          onChange={(l) => setS({ rateLimits: l })}
          errors={fieldsUnder(touched.has("settings.rate_limits") ? { ...clientErrors, ...serverErrors } : serverErrors, "settings.rate_limits")}
          disabled={readOnly}
        />,
      )}
      {section(
        "tokens",
        <>
          {listField("settings.audience", "Audience (aud)", (x) => x.audience, (v) => ({ audience: v }), "One a line, e.g. your Atlas App ID. Empty means the application id.")}
          <CheckboxField label="Put the user's email in the token (email claim)" checked={s.emailClaim} onChange={(v) => setS({ emailClaim: v })} disabled={readOnly} />
          {durationField("settings.token_lifetime", "Access-token lifetime", (x) => x.tokenLifetime, (n) => ({ tokenLifetime: dur(n) }), "Between 1m and 24h; default 1h.")}
          {durationField("settings.refresh_token_lifetime", "Refresh-token lifetime", (x) => x.refreshTokenLifetime, (n) => ({ refreshTokenLifetime: dur(n) }), "At least the access-token lifetime, at most 365d; default 30d.")}
          {durationField(
            "settings.key_rotation.interval",
            "Rotate the signing key every",
            (x) => x.keyRotation?.interval,
            (n) => ({ keyRotation: { $typeName: "cosync.admin.v1.KeyRotation", retireAfter: s.keyRotation?.retireAfter, interval: n ? dur(n) : undefined } }),
            "Empty: only by hand. Otherwise at least 24h.",
          )}
          {durationField(
            "settings.key_rotation.retire_after",
            "Keep a replaced key in the JWKS for",
            (x) => x.keyRotation?.retireAfter,
            (n) => ({ keyRotation: { $typeName: "cosync.admin.v1.KeyRotation", interval: s.keyRotation?.interval, retireAfter: n ? dur(n) : undefined } }),
            "Empty: the token lifetime plus 1h. Never less than the token lifetime.",
          )}
        </>,
      )}
      {section(
        "mail",
        listField("settings.locales", "Locales", (x) => x.locales, (v) => ({ locales: v }), "Language tags, one a line, like en or pt-BR; the first is the default for mail."),
      )}
      {section(
        "cosyncjwt",
        <>
          <TextField
            label="CosyncJWT app token"
            value={s.cosyncjwtAppToken}
            onChange={(v) => setS({ cosyncjwtAppToken: v })}
            hint="Paste the app token your CosyncJWT apps send, so they keep working when pointed at this server. Only its last four characters are shown again."
            error={err("settings.cosyncjwt_app_token")}
            disabled={readOnly}
          />
          <CheckboxField
            label="Passwords arrive MD5-hashed, as CosyncJWT SDKs send them"
            checked={s.md5PrehashedPasswords}
            onChange={(v) => setS({ md5PrehashedPasswords: v })}
            disabled={readOnly}
          />
        </>,
      )}
    </>
  );
}

function policy(s: Settings) {
  return (
    s.passwordPolicy ?? {
      $typeName: "cosync.auth.v1.PasswordPolicy" as const,
      minLength: 8,
      requireUpper: false,
      requireLower: false,
      requireDigit: false,
      requireSpecial: false,
    }
  );
}

const settingsKeys = new Set(AppSettingsSchema.fields.map((f) => f.localName));
const isSettingsKey = (k: string): k is Exclude<keyof Settings, "$typeName" | "$unknown"> => settingsKeys.has(k);

function copyField<K extends keyof Settings>(dst: Settings, src: Settings, k: K): void {
  dst[k] = src[k];
}

/** mergeSaved takes the server's values for the saved paths and keeps the rest of the draft. */
function mergeSaved(draft: Settings, server: Settings, paths: string[]): Settings {
  const out: Settings = { ...draft };
  for (const p of paths) {
    const top = camel(p.split(".")[1] ?? "");
    if (p.startsWith("settings.") && isSettingsKey(top)) copyField(out, server, top);
  }
  return out;
}
