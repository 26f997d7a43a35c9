// API keys for scripts and backends: one application, one role, an optional
// expiry; the secret is shown once, then only its prefix.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime, timestampMs } from "../api/format";
import { SelectField, TextField } from "../ui/fields";
import { CopyButton, EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";
import { ConfirmButton } from "../ui/confirm";
import { roleNames } from "./Apps";
import { dayStart, DateField } from "./Users";

export function ApiKeysPage({ app }: { app: App }) {
  const keys = useQuery(AdminService.method.listApiKeys, { appId: app.id });
  const revoke = useMutation(AdminService.method.revokeApiKey);
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const isOwner = app.role === MemberRole.OWNER;
  const now = Date.now();
  return (
    <>
      <p className="hint">
        An API key acts on this application alone, with its role, for scripts and backends: send it as <code>Authorization: Bearer &lt;key&gt;</code>{" "}
        to the Admin API.
      </p>
      {isOwner ? <CreateKeyForm app={app} /> : <p className="hint">Only owners create and revoke API keys.</p>}
      <section aria-labelledby="apikeys-heading">
        <h2 id="apikeys-heading">API keys</h2>
        <ErrorBanner problem={problem} />
        <Notice>{note}</Notice>
        {keys.isPending ? <Loading what="API keys" /> : null}
        {keys.error ? <ErrorBanner problem={problemOf(keys.error)} /> : null}
        {keys.data && keys.data.apiKeys.length === 0 ? (
          <EmptyState title="No API keys">
            <p>{isOwner ? "Create one above for a script or backend that manages this application's users." : "Ask an owner to create one."}</p>
          </EmptyState>
        ) : null}
        {keys.data && keys.data.apiKeys.length > 0 ? (
          <table>
            <caption className="offscreen">API keys of {app.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key starts</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="offscreen">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.apiKeys.map((k) => {
                const expired = (timestampMs(k.expiresAt) ?? Infinity) <= now;
                return (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{roleNames[k.role]}</td>
                    <td>{formatTime(k.createdAt)}</td>
                    <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : "never"}</td>
                    <td>{k.expiresAt ? `${formatTime(k.expiresAt)}${expired ? " (expired)" : ""}` : "never"}</td>
                    <td>
                      {isOwner ? (
                        <ConfirmButton
                          label={
                            <>
                              Revoke<span className="offscreen"> {k.name}</span>
                            </>
                          }
                          question={`Revoke ${k.name}? Scripts using it stop working at once.`}
                          confirm="Yes, revoke"
                          onConfirm={() =>
                            revoke.mutate(
                              { appId: app.id, apiKeyId: k.id },
                              {
                                onSuccess: async () => {
                                  setProblem(null);
                                  setNote(`Revoked ${k.name}.`);
                                  await qc.invalidateQueries();
                                },
                                onError: (err) => setProblem(problemOf(err)),
                              },
                            )
                          }
                        />
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

function CreateKeyForm({ app }: { app: App }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<MemberRole>(MemberRole.VIEWER);
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const create = useMutation(AdminService.method.createApiKey);
  const qc = useQueryClient();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = "Name the key after what uses it, e.g. \"billing backend\".";
    else if (name.trim().length > 128) errs.name = "Use at most 128 characters.";
    // The key stops at the start of the day after the chosen one, so that day is included.
    const expiresAt = dayStart(expires, 1);
    if (expires !== "" && (!expiresAt || Number(expiresAt.seconds) * 1000 <= Date.now())) errs.expires_at = "Pick a day from today on, or leave it empty.";
    setErrors(errs);
    setProblem(null);
    if (Object.keys(errs).length) return;
    create.mutate(
      { appId: app.id, name: name.trim(), role, expiresAt },
      {
        onSuccess: async (res) => {
          setSecret({ name: name.trim(), secret: res.secret });
          setName("");
          setExpires("");
          await qc.invalidateQueries();
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="create-key-heading">
      <h2 id="create-key-heading">Create an API key</h2>
      <ErrorBanner problem={problem} />
      {secret ? (
        <div className="banner ok" role="status">
          <p>
            <strong>{secret.name}</strong>: copy the key now. It is shown only this once; the server keeps only a hash.
          </p>
          <p>
            <code data-testid="api-key-secret" className="kid">
              {secret.secret}
            </code>{" "}
            <CopyButton text={secret.secret} label="API key" />
          </p>
          <button type="button" className="secondary small" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <div className="toolbar">
        <TextField label="Name" value={name} onChange={setName} error={errors.name} required />
        <SelectField
          label="Role"
          value={role}
          onChange={setRole}
          options={[MemberRole.VIEWER, MemberRole.ADMIN].map((r) => ({ value: r, label: roleNames[r] }))}
          error={errors.role}
        />
        <DateField label="Expires after" value={expires} onChange={setExpires} error={errors.expires_at} />
      </div>
      <p className="hint">Empty expiry: the key works until revoked. An API key can be a viewer or an admin, never an owner.</p>
      <button type="submit" disabled={create.isPending}>
        Create key
      </button>
    </form>
  );
}
