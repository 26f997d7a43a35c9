import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService, type CreateInvitationsRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, InvitationSchema, InvitationState, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { InvitationsPage, parseInvitees } from "./Invitations";
import { OutboxPage } from "./Outbox";

const app = create(AppSchema, {
  id: "app-1",
  name: "Shop",
  role: MemberRole.ADMIN,
  settings: create(AppSettingsSchema, { invitesEnabled: true, locales: ["en"] }),
});

describe("parseInvitees", () => {
  it("reads lines and CSV, skips a header and repeats, and names bad lines", () => {
    expect(parseInvitees('email,name\n"ann@example.com",Ann\nbob@example.com\n\nANN@example.com\nnot-an-address\n')).toEqual({
      emails: ["ann@example.com", "bob@example.com"],
      errors: ['Line 6: "not-an-address" is not an email address.'],
    });
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
