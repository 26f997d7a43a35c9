// Sign-ups waiting for their code: who, with what metadata, how old; resend
// the code or delete the sign-up.
import { useState } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatTime, timestampMs } from "../api/format";
import { href } from "../router";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";
import { ConfirmButton, Pager, usePager } from "../ui/confirm";

/** age says how long ago ms was, in the largest whole unit ("3 h", "2 d"). */
export function age(ms: number | undefined, now: number): string {
  if (ms === undefined) return "—";
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export function PendingSignupsPage({ app }: { app: App }) {
  const pager = usePager();
  const list = useQuery(AdminService.method.listPendingSignups, { appId: app.id, pageSize: 50, pageToken: pager.token });
  const resend = useMutation(AdminService.method.resendPendingSignup);
  const del = useMutation(AdminService.method.deletePendingSignup);
  const qc = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const canWrite = app.role !== MemberRole.VIEWER;
  const opts = (done: string) => ({
    onSuccess: async () => {
      setProblem(null);
      setNote(done);
      await qc.invalidateQueries();
    },
    onError: (err: unknown) => {
      setNote("");
      setProblem(problemOf(err));
    },
  });
  const now = Date.now();
  return (
    <section aria-labelledby="pending-heading">
      <h2 id="pending-heading">Pending sign-ups</h2>
      <p className="hint">People who started signing up and have not entered their code yet. A sign-up expires by itself.</p>
      <ErrorBanner problem={problem} />
      <Notice>{note}</Notice>
      {list.isPending ? <Loading what="pending sign-ups" /> : null}
      {list.error ? <ErrorBanner problem={problemOf(list.error)} /> : null}
      {list.data && list.data.pendingSignups.length === 0 ? (
        <EmptyState title="Nobody is waiting for a code">
          <p>
            {app.settings?.signupEnabled ? (
              "When someone signs up through your app, they wait here until they enter the mailed code."
            ) : (
              <>
                Sign-up is off for this application: turn it on in <a href={href({ page: "app", appId: app.id, tab: "settings" })}>Settings</a>.
              </>
            )}
          </p>
        </EmptyState>
      ) : null}
      {list.data && list.data.pendingSignups.length > 0 ? (
        <table>
          <caption className="offscreen">Pending sign-ups of {app.name}</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Metadata</th>
              <th scope="col">Started</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="offscreen">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.pendingSignups.map((p) => (
              <tr key={p.id}>
                <td>{p.handle}</td>
                <td>{p.metadata && Object.keys(p.metadata).length ? <code>{JSON.stringify(p.metadata)}</code> : "—"}</td>
                <td title={formatTime(p.createdAt)}>{age(timestampMs(p.createdAt), now)} ago</td>
                <td>{formatTime(p.expiresAt)}</td>
                <td>
                  {canWrite ? (
                    <>
                      <button
                        type="button"
                        className="secondary small"
                        onClick={() => resend.mutate({ appId: app.id, pendingSignupId: p.id }, opts(`Sent ${p.handle} a new code.`))}
                      >
                        Resend code<span className="offscreen"> to {p.handle}</span>
                      </button>{" "}
                      <ConfirmButton
                        label={
                          <>
                            Delete<span className="offscreen"> the sign-up of {p.handle}</span>
                          </>
                        }
                        question={`Delete the sign-up of ${p.handle}? Their code stops working.`}
                        confirm="Yes, delete"
                        onConfirm={() => del.mutate({ appId: app.id, pendingSignupId: p.id }, opts(`Deleted the sign-up of ${p.handle}.`))}
                      />
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Pending sign-ups" page={pager.page} hasNext={!!list.data?.nextPageToken} onPrev={pager.prev} onNext={() => list.data && pager.next(list.data.nextPageToken)} />
    </section>
  );
}
