// Per-day charts of the application's activity over a date range the
// developer picks (default the last 30 days), with the range's totals.
import { useState } from "react";
import { useQuery } from "@connectrpc/connect-query";
import { keepPreviousData } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { App, DailyStats } from "@gen/cosync/admin/v1/types_pb";
import { problemOf } from "../api/errors";
import { EmptyState, ErrorBanner, Loading } from "../ui/feedback";
import { LineChart } from "../ui/Chart";
import { DateField } from "./Users";

/** isoDay writes a local date as YYYY-MM-DD. */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** checkRange says what is wrong with a date range, or "" when it is fine. */
export function checkRange(start: string, end: string): string {
  if (!start || !end) return "Pick both days.";
  if (start > end) return "The first day must not be after the last.";
  const days = (Date.parse(end) - Date.parse(start)) / 86400000 + 1;
  if (days > 366) return "Pick at most a year.";
  return "";
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

export function AnalyticsPage({ app, today = new Date() }: { app: App; today?: Date }) {
  const [start, setStart] = useState(() => isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29)));
  const [end, setEnd] = useState(() => isoDay(today));
  const rangeError = checkRange(start, end);
  const stats = useQuery(
    AdminService.method.getStats,
    { appId: app.id, startDate: start, endDate: end },
    { enabled: rangeError === "", placeholderData: keepPreviousData },
  );
  const days = stats.data?.days ?? [];
  const col = (f: (d: DailyStats) => bigint | number) => days.map((d) => Number(f(d)));
  const t = stats.data?.totals;
  const nothing = t && t.signups === 0n && t.logins === 0n && t.invitesSent === 0n && t.users === 0n;
  return (
    <>
      <form className="toolbar" aria-label="Date range" onSubmit={(e) => e.preventDefault()}>
        <DateField label="From" value={start} onChange={setStart} error={rangeError && rangeError !== "Pick both days." ? rangeError : undefined} />
        <DateField label="To" value={end} onChange={setEnd} />
        <div className="field">
          <span className="hint">Quick ranges</span>
          <div className="actions">
            {[7, 30, 90].map((n) => (
              <button
                key={n}
                type="button"
                className="secondary small"
                onClick={() => {
                  setStart(isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (n - 1))));
                  setEnd(isoDay(today));
                }}
              >
                Last {n} days
              </button>
            ))}
          </div>
        </div>
      </form>
      {rangeError === "Pick both days." ? <p className="field-error">{rangeError}</p> : null}
      {stats.isPending && rangeError === "" ? <Loading what="the numbers" /> : null}
      {stats.error ? <ErrorBanner problem={problemOf(stats.error)} /> : null}
      {t ? (
        <section className="card" aria-labelledby="totals-heading">
          <h2 id="totals-heading">
            {start} to {end}
          </h2>
          <dl className="totals">
            <div>
              <dt>Sign-ups started</dt>
              <dd>{t.signups.toString()}</dd>
            </div>
            <div>
              <dt>Sign-ups completed</dt>
              <dd>
                {t.signupCompletions.toString()} <span className="hint">({pct(t.signupConversion)})</span>
              </dd>
            </div>
            <div>
              <dt>Invitations accepted</dt>
              <dd>
                {t.invitesAccepted.toString()} of {t.invitesSent.toString()} <span className="hint">({pct(t.inviteConversion)})</span>
              </dd>
            </div>
            <div>
              <dt>Sign-ins</dt>
              <dd>
                {t.logins.toString()} <span className="hint">({t.loginFailures.toString()} failed)</span>
              </dd>
            </div>
            <div>
              <dt>Active users</dt>
              <dd>{t.activeUsers.toString()}</dd>
            </div>
            <div>
              <dt>Users</dt>
              <dd>
                {t.users.toString()} <span className="hint">({t.twoFactorUsers.toString()} with a second factor)</span>
              </dd>
            </div>
          </dl>
          {stats.data && Object.keys(stats.data.usersByProvider).length ? (
            <p className="hint">
              Users by sign-in:{" "}
              {Object.entries(stats.data.usersByProvider)
                .map(([k, v]) => `${k} ${v.toString()}`)
                .join(" · ")}
            </p>
          ) : null}
        </section>
      ) : null}
      {nothing ? (
        <EmptyState title="Nothing happened in this range">
          <p>Sign-ups, sign-ins and invitations show here once your app's users start using it. Try a longer range.</p>
        </EmptyState>
      ) : null}
      {days.length ? (
        <div className="charts">
          <LineChart
            title="Sign-ups"
            days={days.map((d) => d.date)}
            series={[
              { name: "Started", values: col((d) => d.signups) },
              { name: "Completed", values: col((d) => d.signupCompletions) },
            ]}
          />
          <LineChart
            title="Sign-ins"
            days={days.map((d) => d.date)}
            series={[
              { name: "Succeeded", values: col((d) => d.logins) },
              { name: "Failed", values: col((d) => d.loginFailures) },
            ]}
          />
          <LineChart
            title="Invitations"
            days={days.map((d) => d.date)}
            series={[
              { name: "Sent", values: col((d) => d.invitesSent) },
              { name: "Accepted", values: col((d) => d.invitesAccepted) },
            ]}
          />
          <LineChart title="Active users" days={days.map((d) => d.date)} series={[{ name: "Active users", values: col((d) => d.activeUsers) }]} />
          <LineChart
            title="Conversion"
            percent
            days={days.map((d) => d.date)}
            series={[
              { name: "Sign-ups completed", values: col((d) => d.signupConversion) },
              { name: "Invitations accepted", values: col((d) => d.inviteConversion) },
            ]}
          />
        </div>
      ) : null}
    </>
  );
}
