// The application's members and their roles: owners add a developer by email
// (an existing one joins at once, anyone else is mailed a console invitation)
// and remove members; the last owner cannot be removed.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime } from "../api/format";
import { SelectField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";
import { ConfirmButton } from "../ui/confirm";
import { roleNames } from "./Apps";

export const roleHelp: Record<MemberRole, string> = {
  [MemberRole.UNSPECIFIED]: "",
  [MemberRole.OWNER]: "everything, including members, API keys, signing keys and deleting the application",
  [MemberRole.ADMIN]: "settings, templates, users and invitations",
  [MemberRole.VIEWER]: "reads everything, changes nothing",
};

const emailRE = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

export function TeamPage({ app }: { app: App }) {
  const members = useQuery(AdminService.method.listMembers, { appId: app.id });
  const remove = useMutation(AdminService.method.removeMember);
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const isOwner = app.role === MemberRole.OWNER;
  const owners = members.data?.members.filter((m) => m.role === MemberRole.OWNER && !m.pending).length ?? 0;

  return (
    <>
      <section className="card" aria-labelledby="roles-heading">
        <h2 id="roles-heading">Roles</h2>
        <ul>
          {[MemberRole.OWNER, MemberRole.ADMIN, MemberRole.VIEWER].map((r) => (
            <li key={r}>
              <strong>{roleNames[r]}</strong>: {roleHelp[r]}.
            </li>
          ))}
        </ul>
        <p className="hint">An application always keeps at least one owner: make someone else an owner before the last owner leaves.</p>
      </section>
      {isOwner ? <AddMemberForm app={app} /> : null}
      <section aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <ErrorBanner problem={problem} />
        <Notice>{note}</Notice>
        {members.isPending ? <Loading what="members" /> : null}
        {members.error ? <ErrorBanner problem={problemOf(members.error)} /> : null}
        {members.data && members.data.members.length === 0 ? (
          <EmptyState title="No members">
            <p>Add a developer by email above.</p>
          </EmptyState>
        ) : null}
        {members.data && members.data.members.length > 0 ? (
          <table>
            <caption className="offscreen">Members of {app.name}</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="offscreen">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.members.map((m) => {
                const lastOwner = m.role === MemberRole.OWNER && !m.pending && owners <= 1;
                return (
                  <tr key={m.developerId}>
                    <td>
                      {m.email} {m.pending ? <span className="badge">invited, not signed up yet</span> : null}
                    </td>
                    <td>{roleNames[m.role]}</td>
                    <td>{formatTime(m.addedAt)}</td>
                    <td>
                      {!isOwner ? null : lastOwner ? (
                        <span className="hint">The last owner stays: make another member an owner first.</span>
                      ) : (
                        <ConfirmButton
                          label={
                            <>
                              Remove<span className="offscreen"> {m.email}</span>
                            </>
                          }
                          question={`Remove ${m.email} from ${app.name}?`}
                          confirm="Yes, remove"
                          onConfirm={() =>
                            remove.mutate(
                              { appId: app.id, developerId: m.developerId },
                              {
                                onSuccess: async () => {
                                  setProblem(null);
                                  setNote(`Removed ${m.email}.`);
                                  await qc.invalidateQueries();
                                },
                                onError: (err) => {
                                  setNote("");
                                  setProblem(problemOf(err));
                                },
                              },
                            )
                          }
                        />
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
        {!isOwner ? <p className="hint">Only owners add and remove members.</p> : null}
      </section>
    </>
  );
}

function AddMemberForm({ app }: { app: App }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<MemberRole>(MemberRole.VIEWER);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const add = useMutation(AdminService.method.addMember);
  const qc = useQueryClient();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setNote("");
    if (!emailRE.test(email.trim())) {
      setErrors({ email: "Enter the developer's email address." });
      return;
    }
    setErrors({});
    add.mutate(
      { appId: app.id, email: email.trim(), role },
      {
        onSuccess: async (res) => {
          setNote(
            res.invited
              ? `${email.trim()} has no developer account yet: they were mailed an invitation to the console, and join as ${roleNames[role].toLowerCase()} when they sign up.`
              : `Added ${email.trim()} as ${roleNames[role].toLowerCase()}.`,
          );
          setEmail("");
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
    <form className="card" onSubmit={submit} noValidate aria-labelledby="add-member-heading">
      <h2 id="add-member-heading">Add a member</h2>
      <ErrorBanner problem={problem} />
      <div className="toolbar">
        <TextField label="Developer's email" type="email" value={email} onChange={setEmail} error={errors.email} required />
        <SelectField
          label="Role"
          value={role}
          onChange={setRole}
          options={[MemberRole.VIEWER, MemberRole.ADMIN, MemberRole.OWNER].map((r) => ({ value: r, label: roleNames[r] }))}
          error={errors.role}
        />
      </div>
      <button type="submit" disabled={add.isPending}>
        Add member
      </button>
      <Notice>{note}</Notice>
    </form>
  );
}
