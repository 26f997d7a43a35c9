// Inviting users in bulk from a pasted list, and following the invitations.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { InvitationState, MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldType, type MetadataField } from "@gen/cosync/auth/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime } from "../api/format";
import { href } from "../router";
import { SelectField, TextAreaField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";

const stateNames: Record<InvitationState, string> = {
  [InvitationState.UNSPECIFIED]: "All",
  [InvitationState.PENDING]: "Pending",
  [InvitationState.ACCEPTED]: "Accepted",
  [InvitationState.EXPIRED]: "Expired",
  [InvitationState.REVOKED]: "Revoked",
};

/** maxInvitees is how many addresses CreateInvitations takes at once. */
export const maxInvitees = 1000;

/** hasHeader says whether pasted text starts with a CSV header line naming the address column. */
export function hasHeader(text: string): boolean {
  return /^(e-?mail|handle)$/i.test(cells(text.split(/\r?\n/)[0] ?? "")[0] ?? "");
}

const emailRE = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

/** Invitee is one parsed line: the address and, from extra CSV columns, its metadata. */
export interface Invitee {
  handle: string;
  metadata?: JsonObject;
}

const cells = (line: string) => line.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, ""));

function setPath(obj: JsonObject, path: string, v: JsonValue): void {
  const segs = path.split(".");
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (next === null || typeof next !== "object" || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as JsonObject;
  }
  cur[segs[segs.length - 1]] = v;
}

function typed(f: MetadataField, raw: string): JsonValue | undefined {
  if (f.type === MetadataFieldType.NUMBER) {
    const n = Number(raw);
    return raw !== "" && Number.isFinite(n) ? n : undefined;
  }
  if (f.type === MetadataFieldType.BOOL) {
    if (/^(true|yes|1)$/i.test(raw)) return true;
    if (/^(false|no|0)$/i.test(raw)) return false;
    return undefined;
  }
  return raw;
}

const typeNames: Record<MetadataFieldType, string> = {
  [MetadataFieldType.UNSPECIFIED]: "value",
  [MetadataFieldType.STRING]: "text",
  [MetadataFieldType.NUMBER]: "number",
  [MetadataFieldType.BOOL]: "yes/no",
};

/**
 * parseInvitees reads one address a line, or CSV whose first column is the
 * address. A header line (starting with "email" or "handle") names the other
 * columns: each must be the path of one of the app's invitation metadata
 * fields, and its values are typed and checked as the server checks them.
 */
export function parseInvitees(text: string, fields: MetadataField[] = []): { invitees: Invitee[]; errors: string[] } {
  const invitees: Invitee[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  let columns: (MetadataField | undefined)[] = [];
  let start = 0;
  const head = cells(lines[0] ?? "");
  if (/^(e-?mail|handle)$/i.test(head[0] ?? "")) {
    start = 1;
    columns = head.slice(1).map((name) => {
      const f = fields.find((x) => x.path === name);
      if (!f && name !== "") errors.push(`Column "${name}" is not an invitation metadata field of this application.`);
      return f;
    });
  }
  lines.forEach((line, i) => {
    if (i < start) return;
    const row = cells(line);
    const first = row[0] ?? "";
    if (first === "") return;
    if (first.length > 254 || !emailRE.test(first)) {
      errors.push(`Line ${i + 1}: "${first}" is not an email address.`);
      return;
    }
    if (seen.has(first.toLowerCase())) return;
    seen.add(first.toLowerCase());
    const metadata: JsonObject = {};
    columns.forEach((f, c) => {
      const raw = row[c + 1] ?? "";
      if (!f || raw === "") return;
      const v = typed(f, raw);
      if (v === undefined) errors.push(`Line ${i + 1}: ${f.name || f.path} must be a ${typeNames[f.type]}.`);
      else setPath(metadata, f.path, v);
    });
    for (const f of fields) {
      const c = columns.indexOf(f);
      if (f.required && (c < 0 || (row[c + 1] ?? "") === "")) errors.push(`Line ${i + 1}: ${f.name || f.path} (${f.path}) is required.`);
    }
    invitees.push(Object.keys(metadata).length ? { handle: first, metadata } : { handle: first });
  });
  if (invitees.length > maxInvitees) errors.push(`At most ${maxInvitees.toLocaleString("en")} addresses at once; this list has ${invitees.length}.`);
  return { invitees, errors };
}

export function InvitationsPage({ app }: { app: App }) {
  const [state, setState] = useState<InvitationState>(InvitationState.PENDING);
  const list = useQuery(AdminService.method.listInvitations, { appId: app.id, state, pageSize: 200 });
  const resend = useMutation(AdminService.method.resendInvitation);
  const revoke = useMutation(AdminService.method.revokeInvitation);
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const canWrite = app.role !== MemberRole.VIEWER;

  const act = (what: "resend" | "revoke", id: string, handle: string) => {
    setProblem(null);
    setNote("");
    const opts = {
      onSuccess: async () => {
        setNote(what === "resend" ? `Sent ${handle} a new invitation code.` : `Revoked the invitation of ${handle}.`);
        await qc.invalidateQueries();
      },
      onError: (err: unknown) => setProblem(problemOf(err)),
    };
    if (what === "resend") resend.mutate({ appId: app.id, invitationId: id }, opts);
    else revoke.mutate({ appId: app.id, invitationId: id }, opts);
  };

  return (
    <>
      {!app.settings?.invitesEnabled ? (
        <Notice>
          Invitations are off for this application: turn them on in <a href={href({ page: "app", appId: app.id, tab: "settings" })}>Settings</a>, under
          Sign-up and invitations.
        </Notice>
      ) : null}
      {canWrite ? <InviteForm app={app} /> : null}
      <section aria-labelledby="inv-heading">
        <h2 id="inv-heading">Invitations</h2>
        <div className="toolbar">
          <SelectField
            label="Show"
            value={state}
            onChange={setState}
            options={[InvitationState.UNSPECIFIED, InvitationState.PENDING, InvitationState.ACCEPTED, InvitationState.EXPIRED, InvitationState.REVOKED].map(
              (v) => ({ value: v, label: stateNames[v] }),
            )}
          />
        </div>
        <ErrorBanner problem={problem} />
        <Notice>{note}</Notice>
        {list.isPending ? <Loading what="invitations" /> : null}
        {list.error ? <ErrorBanner problem={problemOf(list.error)} /> : null}
        {list.data && list.data.invitations.length === 0 ? (
          <EmptyState title={state === InvitationState.UNSPECIFIED ? "No invitations yet" : `No ${stateNames[state].toLowerCase()} invitations`}>
            <p>Paste addresses above to invite people; each gets a mail with a code to register.</p>
          </EmptyState>
        ) : null}
        {list.data && list.data.invitations.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">State</th>
                <th scope="col">Sent</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="offscreen">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.invitations.map((inv) => (
                <tr key={inv.id}>
                  <td>{inv.handle}</td>
                  <td>{stateNames[inv.state]}</td>
                  <td>{formatTime(inv.createdAt)}</td>
                  <td>{formatTime(inv.expiresAt)}</td>
                  <td>
                    {canWrite && inv.state === InvitationState.PENDING ? (
                      <>
                        <button type="button" className="secondary small" onClick={() => act("resend", inv.id, inv.handle)}>
                          Resend<span className="offscreen"> to {inv.handle}</span>
                        </button>{" "}
                        <button type="button" className="danger small" onClick={() => act("revoke", inv.id, inv.handle)}>
                          Revoke<span className="offscreen"> {inv.handle}</span>
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

function InviteForm({ app }: { app: App }) {
  const [text, setText] = useState("");
  const [locale, setLocale] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const qc = useQueryClient();
  const createInv = useMutation(AdminService.method.createInvitations);
  const fields = app.settings?.inviteMetadataFields ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { invitees, errors: errs } = parseInvitees(text, fields);
    if (invitees.length === 0 && errs.length === 0) errs.push("Paste at least one email address.");
    setErrors(errs);
    setProblem(null);
    setNote("");
    if (errs.length) return;
    // CSV with a header goes to the server as it was pasted, so the server's
    // reasons name the same lines the developer sees; a plain list is sent parsed.
    const csvHeader = hasHeader(text);
    createInv.mutate(
      csvHeader ? { appId: app.id, locale: locale.trim(), csv: text } : { appId: app.id, locale: locale.trim(), invitations: invitees },
      {
        onSuccess: async (res) => {
          setNote(`Invited ${res.invitations.length} ${res.invitations.length === 1 ? "person" : "people"}.`);
          setText("");
          await qc.invalidateQueries();
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(Object.entries(p.fields).map(([k, v]) => `${k}: ${v}`));
        },
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite people</h2>
      <ErrorBanner problem={problem} />
      <TextAreaField
        label="Email addresses"
        rows={5}
        value={text}
        onChange={setText}
        hint={
          fields.length
            ? `One a line, or CSV (up to 1,000). For metadata, start with a header line: email,${fields.map((f) => f.path).join(",")}${
                fields.some((f) => f.required) ? " (required: " + fields.filter((f) => f.required).map((f) => f.path).join(", ") + ")" : ""
              }.`
            : "One a line, or paste a CSV whose first column is the address (up to 1,000)."
        }
        error={errors.length ? errors.join(" ") : undefined}
      />
      <TextField label="Locale of the mail" value={locale} onChange={setLocale} placeholder={app.settings?.locales[0] ?? "en"} hint="Empty: the application's first locale." />
      <button type="submit" disabled={createInv.isPending}>
        Send invitations
      </button>
      <Notice>{note}</Notice>
    </form>
  );
}
