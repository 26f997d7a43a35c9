// The application's members and their roles: owners add a developer by email
// (an existing one joins at once, anyone else is mailed a console invitation),
// change a member's role (AddMember with the member's email) and remove
// members; the last owner can be neither removed nor demoted.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App, type Member } from "@gen/cosync/admin/v1/types_pb";
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
  // Who is signed in, to ask before an owner demotes themselves (the shell asks the same, so it is cached).
  const caller = useQuery(AdminService.method.getCaller, {});
  const myId = caller.data?.developerId ?? "";
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
                    <td>
                      {m.pending ? (
                        roleNames[m.role]
                      ) : (
                        <RoleControl
                          // A fresh control (its choice reset) whenever the server's role changes.
                          key={`${m.developerId}:${m.role}`}
                          app={app}
                          member={m}
                          enabled={isOwner}
                          isMe={myId !== "" && m.developerId === myId}
                          onDone={(msg) => {
                            setProblem(null);
                            setNote(msg);
                          }}
                          onProblem={(p) => {
                            setNote("");
                            setProblem(p);
                          }}
                        />
                      )}
                    </td>
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
        {!isOwner ? <p className="hint">Only owners add and remove members and change their roles.</p> : null}
      </section>
    </>
  );
}

const roleOptions = [MemberRole.VIEWER, MemberRole.ADMIN, MemberRole.OWNER].map((r) => ({ value: r, label: roleNames[r] }));

/**
 * RoleControl is a member's role as a select (enabled for owners only). Picking
 * a role changes nothing until "Change role" is pressed, so arrowing through
 * the options with the keyboard sends nothing; an owner demoting themselves is
 * asked once more, since they cannot undo it on their own.
 */
function RoleControl(props: {
  app: App;
  member: Member;
  enabled: boolean;
  isMe: boolean;
  onDone: (note: string) => void;
  onProblem: (p: Problem) => void;
}) {
  const { app, member: m } = props;
  const [role, setRole] = useState<MemberRole>(m.role);
  const change = useMutation(AdminService.method.addMember);
  const qc = useQueryClient();
  const who = props.isMe ? "you" : m.email;
  const save = () =>
    change.mutate(
      { appId: app.id, email: m.email, role },
      {
        onSuccess: async () => {
          props.onDone(`${props.isMe ? "You are" : `${m.email} is`} now ${roleNames[role].toLowerCase()}.`);
          // The list, and the application itself: demoting yourself changes what this page offers.
          await qc.invalidateQueries();
        },
        onError: (err) => {
          setRole(m.role);
          props.onProblem(problemOf(err));
        },
      },
    );
  const label = (
    <>
      Change role<span className="offscreen"> of {who}</span>
    </>
  );
  const demotingMyself = props.isMe && m.role === MemberRole.OWNER && role !== MemberRole.OWNER;
  return (
    <div className="role-control">
      <SelectField
        label={props.isMe ? `Your role (${m.email})` : `Role of ${m.email}`}
        hideLabel
        value={role}
        onChange={setRole}
        options={roleOptions}
        disabled={!props.enabled || change.isPending}
      />
      {props.enabled && role !== m.role ? (
        demotingMyself ? (
          <ConfirmButton
            className="small"
            label={label}
            question={`Make yourself ${roleNames[role].toLowerCase()}? Only another owner can make you an owner of ${app.name} again.`}
            confirm="Yes, change my role"
            onConfirm={save}
            busy={change.isPending}
          />
        ) : (
          <button type="button" className="small" disabled={change.isPending} onClick={save}>
            {label}
          </button>
        )
      ) : null}
    </div>
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
          options={roleOptions}
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
