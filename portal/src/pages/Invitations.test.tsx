import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService, type CreateInvitationsRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, InvitationSchema, InvitationState, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldSchema, MetadataFieldType } from "@gen/cosync/auth/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { hasHeader, InvitationsPage, parseInvitees } from "./Invitations";
import { OutboxPage } from "./Outbox";

const app = create(AppSchema, {
  id: "app-1",
  name: "Shop",
  role: MemberRole.ADMIN,
  settings: create(AppSettingsSchema, { invitesEnabled: true, locales: ["en"] }),
});

describe("parseInvitees", () => {
  it("reads lines, skips repeats, and names bad lines", () => {
    expect(parseInvitees('"ann@example.com"\nbob@example.com\n\nANN@example.com\nnot-an-address\n')).toEqual({
      invitees: [{ handle: "ann@example.com" }, { handle: "bob@example.com" }],
      errors: ['Line 5: "not-an-address" is not an email address.'],
    });
  });

  it("reads metadata columns named by a header, typed by the app's invitation fields", () => {
    const fields = [
      create(MetadataFieldSchema, { path: "user_data.plan", name: "Plan", type: MetadataFieldType.STRING, required: true }),
      create(MetadataFieldSchema, { path: "user_data.seats", name: "Seats", type: MetadataFieldType.NUMBER }),
      create(MetadataFieldSchema, { path: "beta", name: "Beta", type: MetadataFieldType.BOOL }),
    ];
    const csv = "email,user_data.plan,user_data.seats,beta\nann@example.com,pro,5,yes\nbob@example.com,,x,maybe\n";
    expect(parseInvitees(csv, fields)).toEqual({
      invitees: [
        { handle: "ann@example.com", metadata: { user_data: { plan: "pro", seats: 5 }, beta: true } },
        { handle: "bob@example.com" },
      ],
      errors: ["Line 3: Seats must be a number.", "Line 3: Beta must be a yes/no.", "Line 3: Plan (user_data.plan) is required."],
    });
    expect(parseInvitees("email,nickname\nann@example.com,Annie", fields).errors).toEqual([
      'Column "nickname" is not an invitation metadata field of this application.',
      "Line 2: Plan (user_data.plan) is required.",
    ]);
  });
});

describe("InvitationsPage", () => {
  it("refuses bad addresses before sending, then invites and lists", async () => {
    const sent: CreateInvitationsRequest[] = [];
    const invitations = [create(InvitationSchema, { id: "i1", handle: "ann@example.com", state: InvitationState.PENDING })];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listInvitations: (req) => ({ invitations: sent.length ? invitations.filter((i) => !req.state || i.state === req.state) : [] }),
        createInvitations: (req) => {
          sent.push(req);
          return { invitations };
        },
      }),
    );
    renderWith(<InvitationsPage app={app} />, transport);
    expect(await screen.findByRole("heading", { name: "No pending invitations" })).toBeInTheDocument();
    const box = screen.getByLabelText("Email addresses");
    await userEvent.type(box, "ann@example.com\nnope");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    expect(box).toHaveAccessibleDescription(/Line 2: "nope" is not an email address\./);
    expect(sent).toHaveLength(0);

    await userEvent.clear(box);
    await userEvent.type(box, "ann@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    expect(await screen.findByText("Invited 1 person.")).toBeInTheDocument();
    expect(sent[0].invitations.map((i) => i.handle)).toEqual(["ann@example.com"]);
    await waitFor(() => expect(screen.getByRole("cell", { name: "ann@example.com" })).toBeInTheDocument());
    expect(screen.getByRole("button", { name: "Revoke ann@example.com" })).toBeInTheDocument();
  });

  it("sends CSV with a header as pasted, so the server's line numbers match, and a plain list parsed", async () => {
    const sent: CreateInvitationsRequest[] = [];
    const fieldApp = create(AppSchema, {
      ...app,
      settings: create(AppSettingsSchema, {
        invitesEnabled: true,
        locales: ["en"],
        inviteMetadataFields: [create(MetadataFieldSchema, { path: "plan", name: "Plan", type: MetadataFieldType.STRING })],
      }),
    });
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listInvitations: () => ({ invitations: [] }),
        createInvitations: (req) => {
          sent.push(req);
          if (req.csv.includes("taken@")) throw serverError(Code.InvalidArgument, "INVALID_ARGUMENT", { csv: "line 3: taken@example.com is already a user" });
          return { invitations: [create(InvitationSchema, { id: "i1", handle: "ann@example.com" })] };
        },
      }),
    );
    renderWith(<InvitationsPage app={fieldApp} />, transport);
    const box = await screen.findByLabelText("Email addresses");
    await userEvent.type(box, "email,plan\nann@example.com,pro");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    expect(await screen.findByText("Invited 1 person.")).toBeInTheDocument();
    expect(sent[0]).toMatchObject({ csv: "email,plan\nann@example.com,pro", invitations: [] });

    await userEvent.type(box, "email,plan\nann@example.com,pro\ntaken@example.com,pro");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    expect(box).toHaveAccessibleDescription(/csv: line 3: taken@example.com is already a user/);

    await userEvent.clear(box);
    await userEvent.type(box, "bob@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    await waitFor(() => expect(sent).toHaveLength(3));
    expect(sent[2]).toMatchObject({ csv: "", invitations: [{ handle: "bob@example.com" }] });
    expect(hasHeader("Email;plan\nx@y.z")).toBe(true);
    expect(hasHeader("ann@example.com")).toBe(false);
  });

  it("says when invitations are off, in plain words", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listInvitations: () => ({ invitations: [] }),
        createInvitations: () => {
          throw serverError(Code.FailedPrecondition, "INVITES_DISABLED");
        },
      }),
    );
    renderWith(<InvitationsPage app={app} />, transport);
    await userEvent.type(screen.getByLabelText("Email addresses"), "ann@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send invitations" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Invitations are turned off for this application.");
  });
});

describe("OutboxPage", () => {
  it("explains an empty outbox, and one the server does not keep", async () => {
    const empty = createRouterTransport(({ service }) => service(AdminService, { listOutbox: () => ({ messages: [] }) }));
    const { unmount } = renderWith(<OutboxPage app={app} />, empty);
    expect(await screen.findByRole("heading", { name: "Nothing sent yet" })).toBeInTheDocument();
    unmount();
    const disabled = createRouterTransport(({ service }) =>
      service(AdminService, {
        listOutbox: () => {
          throw serverError(Code.FailedPrecondition, "OUTBOX_DISABLED");
        },
      }),
    );
    renderWith(<OutboxPage app={app} />, disabled);
    expect(await screen.findByRole("heading", { name: "Mail goes out for real" })).toBeInTheDocument();
  });
});
