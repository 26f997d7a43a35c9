// The applications the developer is a member of, and creating a new one.
import { useState, type FormEvent } from "react";
import { create } from "@bufbuild/protobuf";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { AppSettingsSchema, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import type { MetadataField } from "@gen/cosync/auth/v1/types_pb";
import { fieldsUnder, problemOf, type Problem } from "../api/errors";
import { splitList } from "../api/format";
import { href, navigate } from "../router";
import { MetadataFieldsEditor } from "../settings/MetadataFieldsEditor";
import { checkMetadataFields } from "../settings/validate";
import { TextAreaField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";

export const roleNames: Record<MemberRole, string> = {
  [MemberRole.UNSPECIFIED]: "—",
  [MemberRole.OWNER]: "Owner",
  [MemberRole.ADMIN]: "Admin",
  [MemberRole.VIEWER]: "Viewer",
};

export function AppsList() {
  const apps = useQuery(AdminService.method.listApps, { pageSize: 500 });
  return (
    <>
      <div className="page-head">
        <h1>Applications</h1>
        <a className="button" href={href({ page: "new-app" })}>
          Create an application
        </a>
      </div>
      {apps.isPending ? <Loading what="applications" /> : null}
      {apps.error ? <ErrorBanner problem={problemOf(apps.error)} /> : null}
      {apps.data && apps.data.apps.length === 0 ? (
        <EmptyState title="No applications yet">
          <p>
            An application gets its own users, signing key and JWKS URL. <a href={href({ page: "new-app" })}>Create your first application</a>{" "}
            and point your app's backend (Atlas, PowerSync, Hasura…) at its JWKS URL.
          </p>
        </EmptyState>
      ) : null}
      {apps.data && apps.data.apps.length > 0 ? (
        <table>
          <caption className="offscreen">Your applications</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Your role</th>
            </tr>
          </thead>
          <tbody>
            {apps.data.apps.map((a) => (
              <tr key={a.id}>
                <td>
                  <a href={href({ page: "app", appId: a.id, tab: "settings" })}>{a.name}</a>
                </td>
                <td>
                  <code>{a.id}</code>
                </td>
                <td>{roleNames[a.role]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {apps.data && apps.data.apps.some((a) => a.role === MemberRole.OWNER || a.role === MemberRole.ADMIN) ? <GlobalSwitches /> : null}
    </>
  );
}

/** GlobalSwitches turns sign-up or invitations on or off in every app the developer administers, in one call. */
export function GlobalSwitches() {
  const set = useMutation(AdminService.method.setGlobalSwitches);
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const flip = (what: "signup" | "invites", on: boolean) => {
    setProblem(null);
    setNote("");
    set.mutate(what === "signup" ? { signupEnabled: on } : { invitesEnabled: on }, {
      onSuccess: async (res) => {
        const n = res.apps.length;
        setNote(`${what === "signup" ? "Sign-up" : "Invitations"} turned ${on ? "on" : "off"} in ${n} ${n === 1 ? "application" : "applications"}.`);
        await qc.invalidateQueries();
      },
      onError: (err) => setProblem(problemOf(err)),
    });
  };
  return (
    <section className="card" aria-labelledby="switches-heading">
      <h2 id="switches-heading">Every application at once</h2>
      <p className="hint">Turns a switch in every application where you are an owner or admin; each application's Settings can change it back.</p>
      <ErrorBanner problem={problem} />
      <div className="actions wrap">
        <button type="button" className="secondary" disabled={set.isPending} onClick={() => flip("signup", true)}>
          Turn sign-up on
        </button>
        <button type="button" className="secondary" disabled={set.isPending} onClick={() => flip("signup", false)}>
          Turn sign-up off
        </button>
        <button type="button" className="secondary" disabled={set.isPending} onClick={() => flip("invites", true)}>
          Turn invitations on
        </button>
        <button type="button" className="secondary" disabled={set.isPending} onClick={() => flip("invites", false)}>
          Turn invitations off
        </button>
      </div>
      <Notice>{note}</Notice>
    </section>
  );
}

/** validateNewApp checks the create form as the server would. */
export function validateNewApp(name: string, audience: string[], fields: MetadataField[]): Record<string, string> {
  const errs: Record<string, string> = {};
  if (!name.trim()) errs.name = "Give the application a name.";
  else if (name.trim().length > 128) errs.name = "Use at most 128 characters.";
  if (audience.length > 10) errs["settings.audience"] = "List at most 10 audience values.";
  audience.forEach((a, i) => {
    if (a.length > 256) errs["settings.audience"] = `Value ${i + 1} is longer than 256 characters.`;
  });
  Object.assign(errs, checkMetadataFields("signup_metadata_fields", fields));
  return errs;
}

export function CreateApp() {
  const [name, setName] = useState("");
  const [audience, setAudience] = useState("");
  const [fields, setFields] = useState<MetadataField[]>([]);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [submitted, setSubmitted] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const qc = useQueryClient();
  const createApp = useMutation(AdminService.method.createApp);
  // After a first try, the browser's checks follow every keystroke, so a
  // fixed field stops showing its reason at once.
  const live = submitted ? validateNewApp(name, splitList(audience), fields) : {};
  const errors = { ...serverErrors, ...live };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const aud = splitList(audience);
    const errs = validateNewApp(name, aud, fields);
    setSubmitted(true);
    setServerErrors({});
    setProblem(null);
    if (Object.keys(errs).length) return;
    createApp.mutate(
      { name: name.trim(), settings: create(AppSettingsSchema, { audience: aud, signupMetadataFields: fields }) },
      {
        onSuccess: async (res) => {
          await qc.invalidateQueries();
          if (res.app) navigate({ page: "app", appId: res.app.id, tab: "keys" });
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setServerErrors(p.fields);
        },
      },
    );
  };

  return (
    <>
      <h1>Create an application</h1>
      <form onSubmit={submit} noValidate aria-label="Create an application">
        <ErrorBanner problem={problem} />
        <TextField label="Name" value={name} onChange={setName} error={errors.name} required hint="Shown in mails and authenticator apps." />
        <TextAreaField
          label="Audience"
          value={audience}
          onChange={setAudience}
          rows={2}
          error={errors["settings.audience"] ?? Object.entries(fieldsUnder(errors, "settings.audience"))[0]?.[1]}
          hint="The JWT aud values, one a line: for MongoDB Atlas App Services, the Atlas App ID. Empty means the application id."
        />
        <MetadataFieldsEditor
          legend="Sign-up metadata fields"
          fields={fields}
          onChange={setFields}
          errors={fieldsUnder(errors, "settings.signup_metadata_fields")}
        />
        <p className="hint">Every other setting starts at its default; change them in the application's Settings.</p>
        <button type="submit" disabled={createApp.isPending}>
          {createApp.isPending ? "Creating…" : "Create application"}
        </button>
      </form>
    </>
  );
}
