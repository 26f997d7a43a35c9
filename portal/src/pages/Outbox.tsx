// The dev outbox: the mail and SMS a server without real mail kept instead
// of sending, newest first, so codes can be read while developing.
import { Code } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf } from "../api/errors";
import { formatTime } from "../api/format";
import { EmptyState, ErrorBanner, Loading } from "../ui/feedback";

export function OutboxPage({ app }: { app: App }) {
  const out = useQuery(AdminService.method.listOutbox, { appId: app.id, pageSize: 100 }, { refetchInterval: 5000 });
  const problem = out.error ? problemOf(out.error) : null;
  return (
    <>
      <p className="hint">This server has no mail configured, so it keeps what it would have sent here. It refreshes by itself.</p>
      {out.isPending ? <Loading what="the outbox" /> : null}
      {problem && problem.reason === "OUTBOX_DISABLED" ? (
        <EmptyState title="Mail goes out for real">
          <p>{problem.message} Look in the recipients' mailboxes instead.</p>
        </EmptyState>
      ) : problem ? (
        <ErrorBanner problem={problem.code === Code.PermissionDenied ? { ...problem, message: "Your role cannot read this outbox." } : problem} />
      ) : null}
      {out.data && out.data.messages.length === 0 ? (
        <EmptyState title="Nothing sent yet">
          <p>Mail this application sends (sign-up codes, invitations, resets) appears here. Invite someone to see one.</p>
        </EmptyState>
      ) : null}
      {out.data?.messages.map((m) => (
        <article className="card" key={m.id} aria-label={`${m.channel} to ${m.to}`}>
          <h3>
            {m.channel === "sms" ? "SMS" : m.subject || "(no subject)"} <span className="hint">to {m.to}</span>
          </h3>
          <p className="hint">{formatTime(m.sentAt)}</p>
          <pre className="mono">{m.text}</pre>
        </article>
      ))}
    </>
  );
}
