import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient } from "@tanstack/react-query";
import { AuthService, type LogoutRequest } from "@gen/cosync/auth/v1/auth_pb";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { SessionSchema, UserSchema } from "@gen/cosync/auth/v1/types_pb";
import { App } from "./App";
import { SessionStore } from "./api/session";

describe("App", () => {
  beforeEach(() => {
    window.location.hash = "#/";
  });

  it("signs in, shows the developer's apps, and signs out everywhere, forgetting what it read", async () => {
    const logouts: LogoutRequest[] = [];
    const transport = createRouterTransport(({ service }) => {
      service(AuthService, {
        login: () => ({
          result: {
            case: "session",
            value: create(SessionSchema, {
              accessToken: "a1",
              refreshToken: "r1",
              expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
              user: create(UserSchema, { email: "dev@example.com" }),
            }),
          },
        }),
        logout: (req) => {
          logouts.push(req);
          return {};
        },
      });
      service(AdminService, { listApps: () => ({ apps: [create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.OWNER })] }) });
    });
    const session = new SessionStore();
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<App transport={transport} queryClient={queryClient} session={session} />);

    await userEvent.type(screen.getByLabelText(/Email/), "dev@example.com");
    await userEvent.type(screen.getByLabelText(/Password/), "pw-123456");
    await userEvent.keyboard("{Enter}");
    expect(await screen.findByRole("link", { name: "Shop" })).toBeInTheDocument();
    expect(screen.getByText("dev@example.com")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Sign out everywhere" }));
    expect(await screen.findByRole("status")).toHaveTextContent("You are signed out on every device.");
    expect(logouts).toMatchObject([{ all: true }]);
    expect(session.current).toBeNull();
    await waitFor(() => expect(queryClient.getQueryCache().getAll()).toHaveLength(0));
  });

  it("shows an operator the operator page, every app, and lets anyone pick a dark theme", async () => {
    const transport = createRouterTransport(({ service }) => {
      service(AdminService, {
        getCaller: () => ({ developerId: "d1", email: "op@example.com", operator: true }),
        listApps: (req) => ({
          apps: req.all
            ? [create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.OWNER }), create(AppSchema, { id: "app-2", name: "Someone else's" })]
            : [create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.OWNER })],
        }),
        getApp: (req) => ({ app: create(AppSchema, { id: req.appId, name: "CoSync console", role: MemberRole.OWNER }) }),
        listUsers: () => ({ users: [create(UserSchema, { id: "d1", email: "op@example.com" })], totalSize: 1n }),
      });
    });
    const session = new SessionStore();
    session.signIn(
      create(SessionSchema, {
        accessToken: "a1",
        refreshToken: "r1",
        expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
        user: create(UserSchema, { email: "op@example.com" }),
      }),
    );
    render(<App transport={transport} queryClient={new QueryClient({ defaultOptions: { queries: { retry: false } } })} session={session} />);
    await userEvent.click(await screen.findByRole("link", { name: "Operator" }));
    expect(await screen.findByRole("link", { name: "Someone else's" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "not a member" })).toBeInTheDocument();
    const developers = await screen.findByRole("table", { name: "Users of CoSync console" });
    expect(within(developers).getByRole("link", { name: "op@example.com" })).toHaveAttribute("href", "#/apps/console/users/d1");

    await userEvent.selectOptions(screen.getByLabelText("Color theme"), "Dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    await userEvent.selectOptions(screen.getByLabelText("Color theme"), "System theme");
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("shows no operator link to a developer who is not the operator", async () => {
    const transport = createRouterTransport(({ service }) => {
      service(AdminService, { getCaller: () => ({ developerId: "d2", operator: false }), listApps: () => ({ apps: [] }) });
    });
    const session = new SessionStore();
    session.signIn(create(SessionSchema, { accessToken: "a", refreshToken: "r", expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 } }));
    window.location.hash = "#/operator";
    render(<App transport={transport} queryClient={new QueryClient({ defaultOptions: { queries: { retry: false } } })} session={session} />);
    expect(await screen.findByRole("heading", { name: "No applications yet" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Operator" })).toBeNull();
  });

  it("offers the reset page from the sign-in page", async () => {
    const session = new SessionStore();
    render(<App transport={createRouterTransport(() => {})} queryClient={new QueryClient()} session={session} />);
    await userEvent.click(screen.getByRole("link", { name: "Forgot your password?" }));
    expect(await screen.findByRole("heading", { name: "Reset your password" })).toBeInTheDocument();
  });
});
