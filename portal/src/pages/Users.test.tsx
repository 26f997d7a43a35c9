import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import {
  AdminService,
  type CreateUserRequest,
  type ListUsersRequest,
  type RevokeUserSessionRequest,
  type UpdateUserRequest,
} from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, MemberRole, UserSessionSchema } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldSchema, MetadataFieldType, TwoFactorMethod, UserSchema, UserStatus, type User } from "@gen/cosync/auth/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { UsersPage } from "./Users";
import { checkMetadata, UserDetail } from "./UserDetail";

const fields = [
  create(MetadataFieldSchema, { path: "user_data.plan", type: MetadataFieldType.STRING, required: true }),
  create(MetadataFieldSchema, { path: "seats", type: MetadataFieldType.NUMBER }),
];
const app = (role: MemberRole) =>
  create(AppSchema, { id: "app-1", name: "Shop", role, settings: create(AppSettingsSchema, { signupMetadataFields: fields }) });

const ann = create(UserSchema, {
  id: "u-ann",
  email: "ann@example.com",
  status: UserStatus.ACTIVE,
  twoFactor: TwoFactorMethod.TOTP,
  hasPassword: true,
  metadata: { user_data: { plan: "pro" } },
});
const bob = create(UserSchema, { id: "u-bob", email: "bob@example.com", status: UserStatus.SUSPENDED, twoFactor: TwoFactorMethod.NONE });

describe("UsersPage", () => {
  it("searches, filters and pages through the server's users, starting again at page 1 when a filter changes", async () => {
    const seen: ListUsersRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listUsers: (req) => {
          seen.push(req);
          if (req.pageToken === "p2") return { users: [bob], totalSize: 2n };
          if (req.query === "ann") return { users: [ann], totalSize: 1n };
          if (req.status === UserStatus.SUSPENDED) return { users: [], totalSize: 0n };
          return { users: [ann], totalSize: 2n, nextPageToken: "p2" };
        },
      }),
    );
    renderWith(<UsersPage app={app(MemberRole.ADMIN)} />, transport);
    expect(await screen.findByRole("link", { name: "ann@example.com" })).toHaveAttribute("href", "#/apps/app-1/users/u-ann");
    expect(screen.getByText("2 users")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    expect(await screen.findByRole("link", { name: "bob@example.com" })).toBeInTheDocument();
    expect(screen.getByText("Page 2")).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "Suspended" })).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Search"), "ann");
    expect(await screen.findByText("1 user matches")).toBeInTheDocument();
    expect(seen.at(-1)).toMatchObject({ query: "ann", pageToken: "" });

    await userEvent.clear(screen.getByLabelText("Search"));
    await userEvent.selectOptions(screen.getByLabelText("Status"), "Suspended");
    await userEvent.selectOptions(screen.getByLabelText("Anonymous"), "Not anonymous");
    await userEvent.selectOptions(screen.getByLabelText("Signs in with"), "Google");
    await userEvent.selectOptions(screen.getByLabelText("Second factor"), "None");
    expect(await screen.findByRole("heading", { name: "No user matches" })).toBeInTheDocument();
    await waitFor(() =>
      expect(seen.at(-1)).toMatchObject({ status: UserStatus.SUSPENDED, anonymous: false, provider: "google", twoFactor: TwoFactorMethod.NONE }),
    );
  });

  it("sends a created-on range as a half-open range of whole local days", async () => {
    const seen: ListUsersRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listUsers: (req) => {
          seen.push(req);
          return { users: [], totalSize: 0n };
        },
      }),
    );
    renderWith(<UsersPage app={app(MemberRole.VIEWER)} />, transport);
    expect(await screen.findByRole("heading", { name: "No users yet" })).toBeInTheDocument();
    // Viewers read but do not add users.
    expect(screen.queryByRole("button", { name: "Add a user…" })).toBeNull();
    await userEvent.type(screen.getByLabelText("Created from"), "2026-11-01");
    await userEvent.type(screen.getByLabelText("Created to"), "2026-11-30");
    await waitFor(() => expect(seen.at(-1)?.createdBefore).toBeDefined());
    const last = seen.at(-1)!;
    expect(Number(last.createdAfter!.seconds) * 1000).toBe(new Date(2026, 10, 1).getTime());
    expect(Number(last.createdBefore!.seconds) * 1000).toBe(new Date(2026, 11, 1).getTime());
  });

  it("adds a user without a password and says a code was mailed; shows the server's reason beside the field", async () => {
    const created: CreateUserRequest[] = [];
    let exists = false;
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listUsers: () => ({ users: [], totalSize: 0n }),
        createUser: (req) => {
          if (exists) throw serverError(Code.AlreadyExists, "ALREADY_EXISTS", { handle: "a user with this email exists" });
          created.push(req);
          exists = true;
          return { user: create(UserSchema, { id: "u-new", email: req.handle }) };
        },
      }),
    );
    renderWith(<UsersPage app={app(MemberRole.ADMIN)} />, transport);
    await userEvent.click(await screen.findByRole("button", { name: "Add a user…" }));
    await userEvent.click(screen.getByRole("button", { name: "Add user" }));
    expect(screen.getByLabelText(/^Email/)).toHaveAccessibleDescription("Enter the user's email address.");
    expect(created).toHaveLength(0);

    await userEvent.type(screen.getByLabelText(/^Email/), "cat@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Add user" }));
    expect(await screen.findByText(/Added cat@example.com\. They were mailed a code/)).toBeInTheDocument();
    expect(created[0]).toMatchObject({ handle: "cat@example.com", password: "", sendSetPassword: true });

    await userEvent.type(screen.getByLabelText(/^Email/), "cat@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Add user" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That already exists.");
    expect(screen.getByLabelText(/^Email/)).toHaveAccessibleDescription("a user with this email exists");
  });
});

describe("checkMetadata", () => {
  it("accepts an object whose known paths have their types", () => {
    expect(checkMetadata('{"user_data": {"plan": "pro"}, "seats": 3, "extra": [1]}', fields)).toEqual({
      value: { user_data: { plan: "pro" }, seats: 3, extra: [1] },
      errors: [],
    });
  });
  it("names what is wrong: not JSON, not an object, a missing required path, a wrong type", () => {
    expect(checkMetadata("{plan:", fields).errors[0]).toMatch(/^This is not JSON/);
    expect(checkMetadata("[1]", fields).errors).toEqual(['Metadata must be a JSON object, like {"plan": "pro"}.']);
    expect(checkMetadata('{"seats": "3"}', fields).errors).toEqual(["user_data.plan is required.", "seats must be a number."]);
  });
});

function detailServer(user: User) {
  const updates: UpdateUserRequest[] = [];
  const revoked: RevokeUserSessionRequest[] = [];
  const calls: string[] = [];
  let current = user;
  let sessions = [
    create(UserSessionSchema, { id: "s1", ip: "203.0.113.7", userAgent: "Safari", method: "password" }),
    create(UserSessionSchema, { id: "s2", ip: "198.51.100.2", method: "apple" }),
  ];
  const transport = createRouterTransport(({ service }) =>
    service(AdminService, {
      getUser: () => ({ user: current, sessions }),
      updateUser: (req) => {
        updates.push(req);
        if (req.updateMask?.paths.includes("status")) {
          current = create(UserSchema, { ...current, status: req.status });
          if (req.status === UserStatus.SUSPENDED) sessions = [];
        }
        if (req.updateMask?.paths.includes("metadata")) current = create(UserSchema, { ...current, metadata: req.metadata });
        return { user: current };
      },
      revokeUserSession: (req) => {
        revoked.push(req);
        sessions = sessions.filter((s) => s.id !== req.sessionId);
        return {};
      },
      resetUserTwoFactor: () => {
        calls.push("reset2fa");
        current = create(UserSchema, { ...current, twoFactor: TwoFactorMethod.NONE });
        return { user: current };
      },
      sendPasswordReset: () => {
        calls.push("reset");
        return {};
      },
      deleteUser: () => {
        throw serverError(Code.PermissionDenied, "PERMISSION_DENIED");
      },
    }),
  );
  return { transport, updates, revoked, calls };
}

describe("UserDetail", () => {
  it("suspends after asking, and the user's sessions are gone", async () => {
    const srv = detailServer(ann);
    renderWith(<UserDetail app={app(MemberRole.ADMIN)} userId="u-ann" />, srv.transport);
    const head = await screen.findByRole("heading", { name: /ann@example.com/ });
    expect(head).toHaveTextContent("Active");
    expect(screen.getAllByRole("button", { name: /^Revoke/ })).toHaveLength(2);

    await userEvent.click(screen.getByRole("button", { name: "Suspend…" }));
    expect(srv.updates).toHaveLength(0);
    const ask = screen.getByRole("group", { name: /Suspend this user\?/ });
    // The keyboard lands on the safe choice.
    expect(within(ask).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await userEvent.click(within(ask).getByRole("button", { name: "Yes, suspend" }));
    expect(await screen.findByText("Suspended: every session is signed out.")).toBeInTheDocument();
    expect(srv.updates[0]).toMatchObject({ userId: "u-ann", status: UserStatus.SUSPENDED, updateMask: { paths: ["status"] } });
    await waitFor(() => expect(screen.getByText("No active sessions: the user is signed out everywhere.")).toBeInTheDocument());
    expect(screen.getByRole("heading", { name: /ann@example.com/ })).toHaveTextContent("Suspended");
    expect(screen.getByRole("button", { name: "Reactivate" })).toBeInTheDocument();
  });

  it("revokes one session, resets the second factor, sends a reset, and shows a refusal in plain words", async () => {
    const srv = detailServer(ann);
    renderWith(<UserDetail app={app(MemberRole.ADMIN)} userId="u-ann" />, srv.transport);
    await screen.findByRole("heading", { name: "Sessions" });
    await userEvent.click(screen.getAllByRole("button", { name: /^Revoke the session opened/ })[0]);
    await waitFor(() => expect(srv.revoked.map((r) => r.sessionId)).toEqual(["s1"]));
    await waitFor(() => expect(screen.getAllByRole("button", { name: /^Revoke/ })).toHaveLength(1));

    await userEvent.click(screen.getByRole("button", { name: "Send password reset" }));
    expect(await screen.findByText("Mailed ann@example.com a password-reset code.")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Reset second factor…" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, reset" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Reset second factor…" })).toBeNull());
    expect(srv.calls).toEqual(["reset", "reset2fa"]);

    await userEvent.click(screen.getByRole("button", { name: "Delete user…" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your role in this application does not allow that.");
  });

  it("checks metadata against the app's fields before saving it", async () => {
    const srv = detailServer(ann);
    renderWith(<UserDetail app={app(MemberRole.ADMIN)} userId="u-ann" />, srv.transport);
    const box = await screen.findByLabelText("Metadata (JSON)");
    await userEvent.clear(box);
    await userEvent.type(box, '{{"seats": "many"}');
    await userEvent.click(screen.getByRole("button", { name: "Save metadata" }));
    expect(box).toHaveAccessibleDescription(/user_data.plan is required\. seats must be a number\./);
    expect(srv.updates).toHaveLength(0);

    await userEvent.clear(box);
    await userEvent.type(box, '{{"user_data": {{"plan": "team"}, "seats": 4}');
    await userEvent.click(screen.getByRole("button", { name: "Save metadata" }));
    expect(await screen.findByText("Metadata saved; it is in the user's next token.")).toBeInTheDocument();
    expect(srv.updates[0]).toMatchObject({ metadata: { user_data: { plan: "team" }, seats: 4 }, updateMask: { paths: ["metadata"] } });
  });

  it("shows a viewer the user without any action", async () => {
    const srv = detailServer(bob);
    renderWith(<UserDetail app={app(MemberRole.VIEWER)} userId="u-bob" />, srv.transport);
    expect(await screen.findByText("Viewers read users; admins and owners change them.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Suspend|Reactivate|Delete|Revoke|Save metadata/ })).toBeNull();
    expect(screen.getByLabelText("Metadata (JSON)")).toHaveAttribute("readonly");
  });
});
