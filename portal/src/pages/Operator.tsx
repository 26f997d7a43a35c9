// The operator's pages: every application on the server (not only those the
// operator is a member of), and the developers, who are the users of the
// built-in console application.
import { useQuery } from "@connectrpc/connect-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { problemOf } from "../api/errors";
import { ConsoleAppID } from "../api/transport";
import { formatTime } from "../api/format";
import { href } from "../router";
import { EmptyState, ErrorBanner, Loading } from "../ui/feedback";
import { roleNames } from "./Apps";
import { UsersPage } from "./Users";

export function OperatorPage() {
  const apps = useQuery(AdminService.method.listApps, { all: true, pageSize: 500 });
  const consoleApp = useQuery(AdminService.method.getApp, { appId: ConsoleAppID });
  return (
    <>
      <h1>Operator</h1>
      <p className="hint">You run this server: you see every application, and the developers who use the console.</p>
      <section aria-labelledby="all-apps-heading">
        <h2 id="all-apps-heading">All applications</h2>
        {apps.isPending ? <Loading what="applications" /> : null}
        {apps.error ? <ErrorBanner problem={problemOf(apps.error)} /> : null}
        {apps.data && apps.data.apps.length === 0 ? (
          <EmptyState title="No applications on this server yet">
            <p>Developers create them from the Applications page.</p>
          </EmptyState>
        ) : null}
        {apps.data && apps.data.apps.length > 0 ? (
          <table>
            <caption className="offscreen">Every application on this server</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Created</th>
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
                  <td>{formatTime(a.createdAt)}</td>
                  <td>{a.role === MemberRole.UNSPECIFIED ? "not a member" : roleNames[a.role]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <h2>Developers</h2>
      <p className="hint">Developers are the users of the built-in console application; suspending one signs them out of the portal.</p>
      {consoleApp.isPending ? <Loading what="developers" /> : null}
      {consoleApp.error ? <ErrorBanner problem={problemOf(consoleApp.error)} /> : null}
      {consoleApp.data?.app ? <UsersPage app={consoleApp.data.app} /> : null}
    </>
  );
}
