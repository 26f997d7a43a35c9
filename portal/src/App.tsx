// The portal's root: the one transport and query client (made by the caller,
// outside render, so tests inject their own), the session, and the pages.
import { useEffect, useSyncExternalStore } from "react";
import type { Transport } from "@connectrpc/connect";
import { TransportProvider, useMutation, useQuery } from "@connectrpc/connect-query";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { SessionStore } from "./api/session";
import { problemOf } from "./api/errors";
import { appTabs, href, useRoute, type AppTab } from "./router";
import { ForgotPassword, ResetPassword, SignIn } from "./pages/SignIn";
import { DeveloperSignUp } from "./pages/SignUp";
import { AppsList, CreateApp, roleNames } from "./pages/Apps";
import { OperatorPage } from "./pages/Operator";
import { AccountPage } from "./pages/Account";
import { UsersPage } from "./pages/Users";
import { UserDetail } from "./pages/UserDetail";
import { PendingSignupsPage } from "./pages/PendingSignups";
import { TeamPage } from "./pages/Team";
import { ApiKeysPage } from "./pages/ApiKeys";
import { IntegrationsPage } from "./pages/Integrations";
import { AnalyticsPage } from "./pages/Analytics";
import { AuditPage } from "./pages/Audit";
import { ThemeToggle } from "./ui/theme";
import { AppSettingsPage } from "./pages/AppSettings";
import { KeysPage } from "./pages/Keys";
import { TemplatesPage } from "./pages/Templates";
import { InvitationsPage } from "./pages/Invitations";
import { OutboxPage } from "./pages/Outbox";
import { ErrorBanner, Loading } from "./ui/feedback";

export interface AppProps {
  transport: Transport;
  queryClient: QueryClient;
  session: SessionStore;
}

export function App({ transport, queryClient, session }: AppProps) {
  const signedIn = useSyncExternalStore(session.subscribe, session.getSnapshot);
  useEffect(() => {
    // Nothing read for one developer may show to the next.
    if (!signedIn) queryClient.clear();
  }, [signedIn, queryClient]);
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <a
          className="skip"
          href="#main"
          onClick={(e) => {
            // The hash is the router's, so move focus by hand.
            e.preventDefault();
            document.getElementById("main")?.focus();
          }}
        >
          Skip to content
        </a>
        {signedIn ? <Shell session={session} /> : <SignedOut session={session} />}
      </QueryClientProvider>
    </TransportProvider>
  );
}

function SignedOut({ session }: { session: SessionStore }) {
  const route = useRoute();
  if (route.page === "forgot") return <ForgotPassword />;
  if (route.page === "reset") return <ResetPassword initialHandle={route.handle} />;
  if (route.page === "signup") return <DeveloperSignUp session={session} />;
  return <SignIn session={session} />;
}

function Shell({ session }: { session: SessionStore }) {
  const route = useRoute();
  const logout = useMutation(AuthService.method.logout);
  const email = session.current?.user?.email ?? "";
  // GetCaller says whether this developer runs the server (operator pages).
  const caller = useQuery(AdminService.method.getCaller, {});
  const operator = caller.data?.operator ?? false;
  const signOut = (all: boolean) =>
    logout.mutate({ all }, { onSettled: () => session.end(all ? "You are signed out on every device." : "You are signed out.") });
  return (
    <>
      <header className="topbar">
        <a className="brand" href={href({ page: "apps" })}>
          CoSync Auth
        </a>
        <nav aria-label="Account">
          {operator ? (
            <a href={href({ page: "operator" })} aria-current={route.page === "operator" ? "page" : undefined}>
              Operator
            </a>
          ) : null}
          <a href={href({ page: "account" })} aria-current={route.page === "account" ? "page" : undefined} title="Your account">
            {email || "Your account"}
          </a>
          <ThemeToggle />
          <button type="button" className="secondary small" onClick={() => signOut(false)}>
            Sign out
          </button>
          <button type="button" className="secondary small" onClick={() => signOut(true)}>
            Sign out everywhere
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === "new-app" ? (
          <CreateApp />
        ) : route.page === "app" ? (
          <AppPage appId={route.appId} tab={route.tab} userId={route.userId} />
        ) : route.page === "operator" && operator ? (
          <OperatorPage />
        ) : route.page === "account" ? (
          <AccountPage session={session} />
        ) : (
          <AppsList />
        )}
      </main>
    </>
  );
}

function AppPage({ appId, tab, userId }: { appId: string; tab: AppTab; userId?: string }) {
  const q = useQuery(AdminService.method.getApp, { appId });
  if (q.isPending) return <Loading what="the application" />;
  if (q.error || !q.data.app) {
    return (
      <>
        <h1>Application</h1>
        <ErrorBanner problem={problemOf(q.error)} />
        <p>
          <a href={href({ page: "apps" })}>Back to your applications</a>
        </p>
      </>
    );
  }
  const app = q.data.app;
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href={href({ page: "apps" })}>Applications</a> / <span>{app.name}</span>
      </nav>
      <div className="page-head">
        <h1>{app.name}</h1>
        <span className="hint">
          id <code>{app.id}</code> · you are {roleNames[app.role].toLowerCase()}
        </span>
      </div>
      <nav aria-label="Application" className="tabs">
        <ul>
          {appTabs.map((t) => (
            <li key={t.tab}>
              <a href={href({ page: "app", appId, tab: t.tab })} aria-current={t.tab === tab ? "page" : undefined}>
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === "settings" ? <AppSettingsPage key={app.id} app={app} /> : null}
      {tab === "keys" ? <KeysPage app={app} /> : null}
      {tab === "integrations" ? <IntegrationsPage app={app} /> : null}
      {tab === "users" && !userId ? <UsersPage key={app.id} app={app} /> : null}
      {tab === "users" && userId ? <UserDetail key={userId} app={app} userId={userId} /> : null}
      {tab === "signups" ? <PendingSignupsPage app={app} /> : null}
      {tab === "templates" ? <TemplatesPage app={app} /> : null}
      {tab === "invitations" ? <InvitationsPage app={app} /> : null}
      {tab === "analytics" ? <AnalyticsPage app={app} /> : null}
      {tab === "audit" ? <AuditPage key={app.id} app={app} /> : null}
      {tab === "team" ? <TeamPage app={app} /> : null}
      {tab === "api-keys" ? <ApiKeysPage app={app} /> : null}
      {tab === "outbox" ? <OutboxPage app={app} /> : null}
    </>
  );
}
