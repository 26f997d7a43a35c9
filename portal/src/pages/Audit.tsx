// The audit log: every admin change and sign-in, with who, what, when and
// from where, filtered and paged, newest first.
import { useState } from "react";
import { useQuery } from "@connectrpc/connect-query";
import { keepPreviousData } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf } from "../api/errors";
import { formatTime } from "../api/format";
import { href } from "../router";
import { SelectField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading } from "../ui/feedback";
import { Pager, usePager } from "../ui/confirm";
import { useDebounced } from "./Templates";
import { dayStart, DateField } from "./Users";

/**
 * isUserSubject says whether an event's subject is a user id worth linking:
 * user and session events name one, except those about an address not yet
 * a user (a sign-up started, an email); keys, apps and templates name other things.
 */
export function isUserSubject(action: string, subject: string): boolean {
  return /^(user|session)\./.test(action) && !subject.includes("@") && !subject.includes(":");
}

export function AuditPage({ app }: { app: App }) {
  const [action, setAction] = useState("");
  const [outcome, setOutcome] = useState("");
  const [actor, setActor] = useState("");
  const [subject, setSubject] = useState("");
  const [ip, setIp] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const pager = usePager();
  // Debounced as one string: a fresh object each render would never settle.
  const typed = useDebounced(JSON.stringify({ action: action.trim(), actorId: actor.trim(), subjectId: subject.trim(), ip: ip.trim() }), 250);
  const text = JSON.parse(typed) as { action: string; actorId: string; subjectId: string; ip: string };
  const events = useQuery(
    AdminService.method.listAuditEvents,
    {
      appId: app.id,
      ...text,
      outcome,
      startTime: dayStart(from),
      endTime: dayStart(to, 1),
      pageSize: 50,
      pageToken: pager.token,
    },
    // The last answer stays on screen while a new filter or page loads.
    { placeholderData: keepPreviousData },
  );
  const filtered = action || outcome || actor || subject || ip || from || to;
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <form className="toolbar filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <TextField label="Action" value={action} onChange={pager.filter(setAction)} placeholder="e.g. user.update" />
        <SelectField
          label="Outcome"
          value={outcome}
          onChange={pager.filter(setOutcome)}
          options={[
            { value: "", label: "Any" },
            { value: "success", label: "Succeeded" },
            { value: "failure", label: "Failed" },
          ]}
        />
        <TextField label="Actor id" value={actor} onChange={pager.filter(setActor)} hint="A developer, API key or user id." />
        <TextField label="Subject" value={subject} onChange={pager.filter(setSubject)} hint="What was acted on: a user id, an email, a key id." />
        <TextField label="IP address" value={ip} onChange={pager.filter(setIp)} />
        <DateField label="From day" value={from} onChange={pager.filter(setFrom)} />
        <DateField label="To day" value={to} onChange={pager.filter(setTo)} />
      </form>
      {events.isPending ? <Loading what="the audit log" /> : null}
      {events.error ? <ErrorBanner problem={problemOf(events.error)} /> : null}
      {events.data && events.data.events.length === 0 ? (
        filtered ? (
          <EmptyState title="No event matches">
            <p>Loosen the filters or widen the days.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No events yet">
            <p>Sign-ins, sign-ups and every change made here or through the Admin API are recorded as they happen.</p>
          </EmptyState>
        )
      ) : null}
      {events.data && events.data.events.length > 0 ? (
        <table>
          <caption className="offscreen">Audit events of {app.name}</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actor</th>
              <th scope="col">Subject</th>
              <th scope="col">IP</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.data.events.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.occurredAt)}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  <span className={`badge outcome-${e.outcome}`}>{e.outcome === "failure" ? "failed" : "ok"}</span>
                  {e.reason ? <div className="hint">{e.reason}</div> : null}
                </td>
                <td>
                  <code className="kid">{e.actorId || "—"}</code>
                </td>
                <td>
                  {!e.subjectId ? (
                    "—"
                  ) : isUserSubject(e.action, e.subjectId) ? (
                    <a href={href({ page: "app", appId: app.id, tab: "users", userId: e.subjectId })}>
                      <code className="kid">{e.subjectId}</code>
                    </a>
                  ) : (
                    <code className="kid">{e.subjectId}</code>
                  )}
                </td>
                <td>{e.ip || "—"}</td>
                <td>{e.details && Object.keys(e.details).length ? <code className="kid">{JSON.stringify(e.details)}</code> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Audit log" page={pager.page} hasNext={!!events.data?.nextPageToken && !events.isPlaceholderData} onPrev={pager.prev} onNext={() => events.data && pager.next(events.data.nextPageToken)} />
    </section>
  );
}
