// One user: who they are, how they sign in, their sessions (revocable one by
// one or all at once), their metadata, and what an admin may do to them:
// suspend or reactivate, reset the second factor, mail a password reset, delete.
import { useState } from "react";
import type { JsonObject } from "@bufbuild/protobuf";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App, type UserSession } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldType, Provider, TwoFactorMethod, UserStatus, type MetadataField, type User } from "@gen/cosync/auth/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime } from "../api/format";
import { href, navigate } from "../router";
import { TextAreaField } from "../ui/fields";
import { ErrorBanner, Loading, Notice } from "../ui/feedback";
import { ConfirmButton } from "../ui/confirm";
import { statusNames, twoFactorNames, userLabel } from "./Users";

const providerNames: Record<Provider, string> = {
  [Provider.UNSPECIFIED]: "—",
  [Provider.APPLE]: "Apple",
  [Provider.GOOGLE]: "Google",
};

/**
 * checkMetadata reads the metadata editor's JSON and checks it against the
 * app's metadata fields as the server does: an object, each known path's
 * value of its type, required paths present. Returns the object or the reasons.
 */
export function checkMetadata(text: string, fields: MetadataField[]): { value?: JsonObject; errors: string[] } {
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    return { errors: [`This is not JSON: ${(err as Error).message}`] };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { errors: ["Metadata must be a JSON object, like {\"plan\": \"pro\"}."] };
  const obj = parsed as JsonObject;
  const errors: string[] = [];
  for (const f of fields) {
    let cur: unknown = obj;
    for (const seg of f.path.split(".")) cur = cur !== null && typeof cur === "object" && !Array.isArray(cur) ? (cur as JsonObject)[seg] : undefined;
    if (cur === undefined || cur === null) {
      if (f.required) errors.push(`${f.path} is required.`);
      continue;
    }
    const want = f.type === MetadataFieldType.NUMBER ? "number" : f.type === MetadataFieldType.BOOL ? "boolean" : f.type === MetadataFieldType.STRING ? "string" : "";
    if (want && typeof cur !== want) errors.push(`${f.path} must be a ${want === "boolean" ? "true/false" : want}.`);
  }
  return errors.length ? { errors } : { value: obj, errors };
}

export function UserDetail({ app, userId }: { app: App; userId: string }) {
  const q = useQuery(AdminService.method.getUser, { appId: app.id, userId });
  const back = href({ page: "app", appId: app.id, tab: "users" });
  if (q.isPending) return <Loading what="the user" />;
  if (q.error || !q.data.user) {
    return (
      <>
        <ErrorBanner problem={problemOf(q.error)} />
        <p>
          <a href={back}>Back to the users</a>
        </p>
      </>
    );
  }
  const u = q.data.user;
  return (
    <>
      <p>
        <a href={back}>← All users</a>
      </p>
      <UserSummary app={app} user={u} />
      <Sessions app={app} user={u} sessions={q.data.sessions} />
      <MetadataEditor key={u.id} app={app} user={u} />
    </>
  );
}

function useAction() {
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const opts = (done: string, after?: () => void) => ({
    onSuccess: async () => {
      setNote(done);
      setProblem(null);
      await qc.invalidateQueries();
      after?.();
    },
    onError: (err: unknown) => {
      setNote("");
      setProblem(problemOf(err));
    },
  });
  return { problem, note, opts };
}

function UserSummary({ app, user: u }: { app: App; user: User }) {
  const canWrite = app.role !== MemberRole.VIEWER;
  const update = useMutation(AdminService.method.updateUser);
  const del = useMutation(AdminService.method.deleteUser);
  const reset2fa = useMutation(AdminService.method.resetUserTwoFactor);
  const sendReset = useMutation(AdminService.method.sendPasswordReset);
  const { problem, note, opts } = useAction();
  const ids = { appId: app.id, userId: u.id };
  const suspended = u.status === UserStatus.SUSPENDED;
  const hasTwoFactor = u.twoFactor === TwoFactorMethod.TOTP || u.twoFactor === TwoFactorMethod.SMS;
  return (
    <section className="card" aria-labelledby="user-heading">
      <h2 id="user-heading">
        {userLabel(u)} <span className={`badge status-${u.status}`}>{statusNames[u.status]}</span>
      </h2>
      <ErrorBanner problem={problem} />
      <Notice>{note}</Notice>
      <dl className="pairs">
        <dt>Id</dt>
        <dd>
          <code>{u.id}</code>
        </dd>
        <dt>Email</dt>
        <dd>{u.email || "—"}</dd>
        {u.userName ? (
          <>
            <dt>User name</dt>
            <dd>{u.userName}</dd>
          </>
        ) : null}
        {u.phone ? (
          <>
            <dt>Phone</dt>
            <dd>
              {u.phone} {u.phoneVerified ? "(verified)" : "(not verified)"}
            </dd>
          </>
        ) : null}
        <dt>Password</dt>
        <dd>{u.hasPassword ? "Set" : "None yet"}</dd>
        <dt>Second factor</dt>
        <dd>{twoFactorNames[u.twoFactor] ?? "None"}</dd>
        <dt>Locale</dt>
        <dd>{u.locale || "—"}</dd>
        <dt>Created</dt>
        <dd>{formatTime(u.createdAt)}</dd>
        <dt>Last sign-in</dt>
        <dd>{formatTime(u.lastLoginAt)}</dd>
        <dt>Linked sign-ins</dt>
        <dd>
          {u.identities.length === 0
            ? u.anonymous
              ? "Anonymous: no email or linked sign-in yet."
              : "None: signs in with email and password."
            : u.identities.map((i) => (
                <div key={`${i.provider}-${i.subject}`}>
                  {providerNames[i.provider]} {i.email ? `(${i.email})` : ""} <span className="hint">linked {formatTime(i.linkedAt)}</span>
                </div>
              ))}
        </dd>
      </dl>
      {canWrite ? (
        <div className="actions wrap">
          {suspended ? (
            <button
              type="button"
              onClick={() => update.mutate({ ...ids, status: UserStatus.ACTIVE, updateMask: { paths: ["status"] } }, opts("Reactivated: the user can sign in again."))}
            >
              Reactivate
            </button>
          ) : (
            <ConfirmButton
              label="Suspend…"
              question="Suspend this user? Every session ends now and sign-in is refused."
              confirm="Yes, suspend"
              busy={update.isPending}
              onConfirm={() =>
                update.mutate({ ...ids, status: UserStatus.SUSPENDED, updateMask: { paths: ["status"] } }, opts("Suspended: every session is signed out."))
              }
            />
          )}
          {u.email ? (
            <button type="button" className="secondary" onClick={() => sendReset.mutate(ids, opts(`Mailed ${u.email} a password-reset code.`))}>
              Send password reset
            </button>
          ) : null}
          {hasTwoFactor ? (
            <ConfirmButton
              className="secondary"
              label="Reset second factor…"
              question="Remove their second factor and recovery codes? They sign in with the password alone until they set one up again."
              confirm="Yes, reset"
              busy={reset2fa.isPending}
              onConfirm={() => reset2fa.mutate(ids, opts("Second factor removed."))}
            />
          ) : null}
          <ConfirmButton
            label="Delete user…"
            question="Delete this user and all their sessions? This cannot be undone."
            confirm="Yes, delete"
            busy={del.isPending}
            onConfirm={() => del.mutate(ids, opts("Deleted.", () => navigate({ page: "app", appId: app.id, tab: "users" })))}
          />
        </div>
      ) : (
        <p className="hint">Viewers read users; admins and owners change them.</p>
      )}
    </section>
  );
}

function Sessions({ app, user, sessions }: { app: App; user: User; sessions: UserSession[] }) {
  const canWrite = app.role !== MemberRole.VIEWER;
  const revokeOne = useMutation(AdminService.method.revokeUserSession);
  const revokeAll = useMutation(AdminService.method.revokeUserSessions);
  const { problem, note, opts } = useAction();
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <ErrorBanner problem={problem} />
      <Notice>{note}</Notice>
      {sessions.length === 0 ? (
        <p>No active sessions: the user is signed out everywhere.</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Opened</th>
                <th scope="col">How</th>
                <th scope="col">From</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="offscreen">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>{formatTime(s.createdAt)}</td>
                  <td>{s.method || "—"}</td>
                  <td>
                    {s.ip || "—"}
                    {s.userAgent ? <div className="hint">{s.userAgent}</div> : null}
                  </td>
                  <td>{formatTime(s.lastUsedAt)}</td>
                  <td>{formatTime(s.expiresAt)}</td>
                  <td>
                    {canWrite ? (
                      <button
                        type="button"
                        className="secondary small"
                        onClick={() => revokeOne.mutate({ appId: app.id, userId: user.id, sessionId: s.id }, opts("That session is signed out."))}
                      >
                        Revoke<span className="offscreen"> the session opened {formatTime(s.createdAt)}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {canWrite ? (
            <p>
              <button type="button" className="secondary" onClick={() => revokeAll.mutate({ appId: app.id, userId: user.id }, opts("Signed out everywhere."))}>
                Sign out of every session
              </button>
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}

function MetadataEditor({ app, user }: { app: App; user: User }) {
  const canWrite = app.role !== MemberRole.VIEWER;
  const fields = app.settings?.signupMetadataFields ?? [];
  const [text, setText] = useState(JSON.stringify(user.metadata ?? {}, null, 2));
  const [errors, setErrors] = useState<string[]>([]);
  const update = useMutation(AdminService.method.updateUser);
  const { problem, note, opts } = useAction();
  const save = () => {
    const { value, errors: errs } = checkMetadata(text, fields);
    setErrors(errs);
    if (!value) return;
    update.mutate({ appId: app.id, userId: user.id, metadata: value, updateMask: { paths: ["metadata"] } }, opts("Metadata saved; it is in the user's next token."));
  };
  return (
    <section className="card" aria-labelledby="metadata-heading">
      <h2 id="metadata-heading">Metadata</h2>
      <ErrorBanner problem={problem} />
      <TextAreaField
        label="Metadata (JSON)"
        rows={8}
        mono
        value={text}
        onChange={setText}
        readOnly={!canWrite}
        hint={
          fields.length
            ? `The application's fields: ${fields.map((f) => `${f.path}${f.required ? " (required)" : ""}`).join(", ")}. They go into the token as claims.`
            : "Any JSON object. Define metadata fields in Settings to put values into tokens."
        }
        error={errors.length ? errors.join(" ") : Object.values(problem?.fields ?? {}).join(" ") || undefined}
      />
      {canWrite ? (
        <button type="button" onClick={save} disabled={update.isPending}>
          Save metadata
        </button>
      ) : null}
      <Notice>{note}</Notice>
    </section>
  );
}
