// The application's users: a searchable, filtered, paged table, and adding a
// user by hand. One user's page is in UserDetail.tsx.
import { useState, type FormEvent } from "react";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { keepPreviousData, useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { TwoFactorMethod, UserStatus, type User } from "@gen/cosync/auth/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime } from "../api/format";
import { href } from "../router";
import { CheckboxField, SelectField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";
import { Pager, usePager } from "../ui/confirm";
import { useDebounced } from "./Templates";

export const statusNames: Record<UserStatus, string> = {
  [UserStatus.UNSPECIFIED]: "Any status",
  [UserStatus.ACTIVE]: "Active",
  [UserStatus.SUSPENDED]: "Suspended",
};

export const twoFactorNames: Record<TwoFactorMethod, string> = {
  [TwoFactorMethod.UNSPECIFIED]: "Any",
  [TwoFactorMethod.NONE]: "None",
  [TwoFactorMethod.TOTP]: "Authenticator app",
  [TwoFactorMethod.SMS]: "SMS",
};

/** userLabel is how a user is named in lists: email, else user name, else "anonymous". */
export function userLabel(u: User): string {
  return u.email || u.userName || (u.anonymous ? `anonymous ${u.id.slice(0, 8)}` : u.id);
}

/** dayStart turns a date input's "YYYY-MM-DD" into a Timestamp at that local midnight; undefined when empty. */
export function dayStart(day: string, plusDays = 0) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split("-").map(Number);
  return timestampFromMs(new Date(y, m - 1, d + plusDays).getTime());
}

type Anon = "any" | "only" | "none";

export function UsersPage({ app }: { app: App }) {
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState<UserStatus>(UserStatus.UNSPECIFIED);
  const [anon, setAnon] = useState<Anon>("any");
  const [provider, setProvider] = useState("");
  const [twoFactor, setTwoFactor] = useState<TwoFactorMethod>(TwoFactorMethod.UNSPECIFIED);
  const [createdFrom, setCreatedFrom] = useState("");
  const [createdTo, setCreatedTo] = useState("");
  const pager = usePager();
  const q = useDebounced(query.trim(), 250);
  const filtered = q !== "" || status !== 0 || anon !== "any" || provider !== "" || twoFactor !== 0 || createdFrom !== "" || createdTo !== "";
  const users = useQuery(
    AdminService.method.listUsers,
    {
      appId: app.id,
      query: q,
      status,
      anonymous: anon === "any" ? undefined : anon === "only",
      provider,
      twoFactor,
      createdAfter: dayStart(createdFrom),
      // The range is half-open, so "to" includes its whole day.
      createdBefore: dayStart(createdTo, 1),
      pageSize: 25,
      pageToken: pager.token,
    },
    // The last answer stays on screen while a new filter or page loads.
    { placeholderData: keepPreviousData },
  );
  const canWrite = app.role !== MemberRole.VIEWER;

  return (
    <>
      {canWrite ? <CreateUserForm app={app} /> : null}
      <section aria-labelledby="users-heading">
        <div className="page-head">
          <h2 id="users-heading">Users</h2>
          {users.data ? (
            <span className="hint" role="status">
              {users.data.totalSize.toString()} {users.data.totalSize === 1n ? "user" : "users"}
              {filtered ? (users.data.totalSize === 1n ? " matches" : " match") : ""}
            </span>
          ) : null}
        </div>
        <form className="toolbar filters" role="search" aria-label="Find users" onSubmit={(e) => e.preventDefault()}>
          <TextField label="Search" value={query} onChange={pager.filter(setQuery)} hint="Email or user name (start), id, or a metadata value." />
          <SelectField
            label="Status"
            value={status}
            onChange={pager.filter(setStatus)}
            options={[UserStatus.UNSPECIFIED, UserStatus.ACTIVE, UserStatus.SUSPENDED].map((v) => ({ value: v, label: statusNames[v] }))}
          />
          <SelectField<Anon>
            label="Anonymous"
            value={anon}
            onChange={pager.filter(setAnon)}
            options={[
              { value: "any", label: "Anonymous or not" },
              { value: "none", label: "Not anonymous" },
              { value: "only", label: "Only anonymous" },
            ]}
          />
          <SelectField
            label="Signs in with"
            value={provider}
            onChange={pager.filter(setProvider)}
            options={[
              { value: "", label: "Any way" },
              { value: "password", label: "Password" },
              { value: "apple", label: "Apple" },
              { value: "google", label: "Google" },
            ]}
          />
          <SelectField
            label="Second factor"
            value={twoFactor}
            onChange={pager.filter(setTwoFactor)}
            options={[TwoFactorMethod.UNSPECIFIED, TwoFactorMethod.NONE, TwoFactorMethod.TOTP, TwoFactorMethod.SMS].map((v) => ({
              value: v,
              label: twoFactorNames[v],
            }))}
          />
          <DateField label="Created from" value={createdFrom} onChange={pager.filter(setCreatedFrom)} />
          <DateField label="Created to" value={createdTo} onChange={pager.filter(setCreatedTo)} />
        </form>
        {users.isPending ? <Loading what="users" /> : null}
        {users.error ? <ErrorBanner problem={problemOf(users.error)} /> : null}
        {users.data && users.data.users.length === 0 ? (
          filtered ? (
            <EmptyState title="No user matches">
              <p>Clear the search or loosen the filters.</p>
            </EmptyState>
          ) : (
            <EmptyState title="No users yet">
              <p>
                Users appear here when they sign up through your app (turn sign-up on in{" "}
                <a href={href({ page: "app", appId: app.id, tab: "settings" })}>Settings</a>), accept an{" "}
                <a href={href({ page: "app", appId: app.id, tab: "invitations" })}>invitation</a>, or when you add one above.
              </p>
            </EmptyState>
          )
        ) : null}
        {users.data && users.data.users.length > 0 ? (
          <table>
            <caption className="offscreen">Users of {app.name}</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Status</th>
                <th scope="col">Second factor</th>
                <th scope="col">Created</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.id}>
                  <td>
                    <a href={href({ page: "app", appId: app.id, tab: "users", userId: u.id })}>{userLabel(u)}</a>
                    {u.userName && u.email ? <span className="hint"> · {u.userName}</span> : null}
                  </td>
                  <td>
                    <span className={`badge status-${u.status}`}>{statusNames[u.status]}</span>
                  </td>
                  <td>{twoFactorNames[u.twoFactor]}</td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td>{formatTime(u.lastLoginAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <Pager
          label="Users"
          page={pager.page}
          hasNext={!!users.data?.nextPageToken && !users.isPlaceholderData}
          onPrev={pager.prev}
          onNext={() => users.data && pager.next(users.data.nextPageToken)}
        />
      </section>
    </>
  );
}

export function DateField({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error?: string }) {
  const id = `date-${label.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="date"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

const emailRE = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

function CreateUserForm({ app }: { app: App }) {
  const [open, setOpen] = useState(false);
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const [mail, setMail] = useState(true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const qc = useQueryClient();
  const createUser = useMutation(AdminService.method.createUser);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!emailRE.test(handle.trim())) errs.handle = "Enter the user's email address.";
    if (password !== "" && password.length < (app.settings?.passwordPolicy?.minLength || 8)) {
      errs.password = `Use at least ${app.settings?.passwordPolicy?.minLength || 8} characters, or leave it empty.`;
    }
    setErrors(errs);
    setProblem(null);
    setNote("");
    if (Object.keys(errs).length) return;
    createUser.mutate(
      { appId: app.id, handle: handle.trim(), password, sendSetPassword: password === "" && mail },
      {
        onSuccess: async (res) => {
          setNote(`Added ${res.user?.email ?? handle.trim()}.${password === "" && mail ? " They were mailed a code to choose a password." : ""}`);
          setHandle("");
          setPassword("");
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
  if (!open) {
    return (
      <p>
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          Add a user…
        </button>
      </p>
    );
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="add-user-heading">
      <h2 id="add-user-heading">Add a user</h2>
      <ErrorBanner problem={problem} />
      <TextField label="Email" type="email" value={handle} onChange={setHandle} error={errors.handle} required />
      <TextField
        label="Password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={setPassword}
        error={errors.password}
        hint="Optional: without one, the user has no password until they choose one."
      />
      {password === "" ? <CheckboxField label="Mail them a code to choose a password" checked={mail} onChange={setMail} /> : null}
      <div className="actions">
        <button type="submit" disabled={createUser.isPending}>
          Add user
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      <Notice>{note}</Notice>
    </form>
  );
}
