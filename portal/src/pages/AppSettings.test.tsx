import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService, type UpdateAppRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, AppStatus, MemberRole, RateLimitSchema } from "@gen/cosync/admin/v1/types_pb";
import { PasswordPolicySchema, SignupFlow, TwoFactorMethod } from "@gen/cosync/auth/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { AppSettingsPage, groups } from "./AppSettings";

const hour = { seconds: 3600n, nanos: 0 };
const app = (role = MemberRole.OWNER) =>
  create(AppSchema, {
    id: "app-1",
    name: "Shop",
    role,
    settings: create(AppSettingsSchema, {
      signupEnabled: true,
      signupFlow: SignupFlow.CODE,
      twoFactor: TwoFactorMethod.NONE,
      status: AppStatus.ACTIVE,
      passwordPolicy: create(PasswordPolicySchema, { minLength: 8 }),
      tokenLifetime: hour,
      refreshTokenLifetime: { seconds: 30n * 86400n, nanos: 0 },
      inviteLifetime: { seconds: 7n * 86400n, nanos: 0 },
      locales: ["en"],
      maxLoginAttempts: 10,
      emailClaim: true,
    }),
  });

const tokens = () => screen.getByRole("form", { name: "Tokens and keys" });

describe("AppSettingsPage", () => {
  it("checks a value in the browser with the server's reason, and does not send it", async () => {
    const updateApp = vi.fn();
    renderWith(<AppSettingsPage app={app()} />, createRouterTransport(({ service }) => service(AdminService, { updateApp })));
    const life = within(tokens()).getByLabelText("Access-token lifetime");
    expect(life).toHaveValue("1h");
    await userEvent.clear(life);
    await userEvent.type(life, "30s");
    expect(life).toHaveAccessibleDescription(/must be between 1m and 24h/);
    await userEvent.clear(life);
    await userEvent.type(life, "soon");
    expect(life).toHaveAccessibleDescription(/Write a duration like 90m, 1h or 7d\./);
    await userEvent.click(within(tokens()).getByRole("button", { name: "Save tokens and keys" }));
    expect(within(tokens()).getByRole("alert")).toHaveTextContent("Some fields need fixing");
    expect(updateApp).not.toHaveBeenCalled();
  });

  it("saves only the group's changed paths, and shows the server's reasons beside the field", async () => {
    const seen: UpdateAppRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        updateApp: (req) => {
          seen.push(req);
          if (seen.length === 1) throw serverError(Code.InvalidArgument, "INVALID_ARGUMENT", { "settings.refresh_token_lifetime": "server reason here" });
          return { app: create(AppSchema, { ...app(), settings: req.settings }) };
        },
      }),
    );
    renderWith(<AppSettingsPage app={app()} />, transport);
    const life = within(tokens()).getByLabelText("Access-token lifetime");
    await userEvent.clear(life);
    await userEvent.type(life, "2h");
    // A change in another group is not sent with this one.
    await userEvent.click(screen.getByLabelText("Anonymous sign-in"));
    await userEvent.click(within(tokens()).getByRole("button", { name: "Save tokens and keys" }));
    expect(await within(tokens()).findByRole("alert")).toHaveTextContent("Some fields need fixing");
    expect(within(tokens()).getByLabelText("Refresh-token lifetime")).toHaveAccessibleDescription(/server reason here/);
    expect(seen[0].updateMask?.paths).toEqual(["settings.token_lifetime"]);
    expect(seen[0].settings?.tokenLifetime?.seconds).toBe(7200n);

    await userEvent.click(within(tokens()).getByRole("button", { name: "Save tokens and keys" }));
    expect(await within(tokens()).findByRole("status")).toHaveTextContent("Saved.");
    await userEvent.click(within(tokens()).getByRole("button", { name: "Save tokens and keys" }));
    await waitFor(() => expect(within(tokens()).getByRole("status")).toHaveTextContent("Nothing changed in this group."));
    expect(seen).toHaveLength(2);
  });

  it("edits rate-limit overrides in a table, shows the limits in force, and saves only settings.rate_limits", async () => {
    const seen: UpdateAppRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        updateApp: (req) => {
          seen.push(req);
          return { app: create(AppSchema, { ...app(), settings: req.settings }) };
        },
      }),
    );
    const withLimits = create(AppSchema, {
      ...app(),
      effectiveRateLimits: [create(RateLimitSchema, { name: "login:ip", limit: 60, window: { seconds: 600n, nanos: 0 } })],
    });
    renderWith(<AppSettingsPage app={withLimits} />, transport);
    const limits = screen.getByRole("form", { name: "Rate limits" });
    expect(within(limits).getByText("login:ip: 60 / 10m")).toBeInTheDocument();
    await userEvent.click(within(limits).getByRole("button", { name: "Add an override" }));
    expect(within(limits).getByLabelText("Rule of rate limit 1")).toHaveValue("login:ip");
    expect(within(limits).getByLabelText("Window of rate limit 1")).toHaveValue("10m");
    const n = within(limits).getByLabelText("Limit of rate limit 1");
    await userEvent.clear(n);
    await userEvent.type(n, "0");
    await userEvent.click(within(limits).getByRole("button", { name: "Save rate limits" }));
    expect(within(limits).getAllByRole("alert").map((a) => a.textContent).join(" ")).toMatch(/limit 0 must be between 1 and 1000000/);
    expect(seen).toHaveLength(0);
    await userEvent.clear(n);
    await userEvent.type(n, "600");
    await userEvent.click(within(limits).getByRole("button", { name: "Save rate limits" }));
    expect(await within(limits).findByRole("status")).toHaveTextContent("Saved.");
    expect(seen[0].updateMask?.paths).toEqual(["settings.rate_limits"]);
    expect(seen[0].settings?.rateLimits.map((l) => [l.name, l.limit, l.window?.seconds])).toEqual([["login:ip", 600, 600n]]);
  });

  it("lets a viewer read but not save", async () => {
    renderWith(<AppSettingsPage app={app(MemberRole.VIEWER)} />, createRouterTransport(() => {}));
    expect(screen.getByText(/You are a viewer of this application/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Save/ })).toBeNull();
    expect(screen.getByLabelText("Users may sign up")).toBeDisabled();
  });
});

describe("groups", () => {
  it("cover every field of AppSettings, so a new setting cannot be forgotten", () => {
    const paths = groups.flatMap((g) => g.paths);
    expect(AppSettingsSchema.fields.length).toBeGreaterThan(20);
    const missing = AppSettingsSchema.fields.map((f) => f.name).filter((name) => !paths.some((p) => p === `settings.${name}` || p.startsWith(`settings.${name}.`)));
    expect(missing).toEqual([]);
  });
});
