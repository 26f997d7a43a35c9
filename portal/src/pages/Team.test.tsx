import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService, type AddMemberRequest, type RemoveMemberRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, MemberRole, MemberSchema, type Member } from "@gen/cosync/admin/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { TeamPage } from "./Team";

const app = (role: MemberRole) => create(AppSchema, { id: "app-1", name: "Shop", role });

describe("TeamPage", () => {
  it("explains the last owner instead of offering to remove them, adds a viewer, and removes a member after asking", async () => {
    let members: Member[] = [
      create(MemberSchema, { developerId: "d-me", email: "me@example.com", role: MemberRole.OWNER }),
      create(MemberSchema, { developerId: "d-ed", email: "ed@example.com", role: MemberRole.ADMIN }),
    ];
    const added: AddMemberRequest[] = [];
    const removed: RemoveMemberRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        getCaller: () => ({ developerId: "d-me", email: "me@example.com" }),
        listMembers: () => ({ members }),
        addMember: (req) => {
          added.push(req);
          const m = create(MemberSchema, { developerId: "inv-1", email: req.email, role: req.role, pending: true });
          members = [...members, m];
          return { member: m, invited: true };
        },
        removeMember: (req) => {
          removed.push(req);
          members = members.filter((m) => m.developerId !== req.developerId);
          return {};
        },
      }),
    );
    renderWith(<TeamPage app={app(MemberRole.OWNER)} />, transport);
    expect(await screen.findByText("The last owner stays: make another member an owner first.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Remove me@example.com" })).toBeNull();

    await userEvent.type(screen.getByLabelText(/Developer's email/), "vi@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Add member" }));
    expect(await screen.findByText(/vi@example.com has no developer account yet/)).toBeInTheDocument();
    expect(added[0]).toMatchObject({ appId: "app-1", email: "vi@example.com", role: MemberRole.VIEWER });
    expect(await screen.findByText("invited, not signed up yet")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Remove ed@example.com" }));
    expect(removed).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Yes, remove" }));
    expect(await screen.findByText("Removed ed@example.com.")).toBeInTheDocument();
    expect(removed[0]).toMatchObject({ developerId: "d-ed" });
  });

  it("words the server's LAST_OWNER refusal, and shows non-owners no controls", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        getCaller: () => ({ developerId: "d-a", email: "a@example.com" }),
        listMembers: () => ({
          members: [
            create(MemberSchema, { developerId: "d-a", email: "a@example.com", role: MemberRole.OWNER }),
            create(MemberSchema, { developerId: "d-b", email: "b@example.com", role: MemberRole.OWNER }),
          ],
        }),
        removeMember: () => {
          throw serverError(Code.FailedPrecondition, "LAST_OWNER");
        },
      }),
    );
    const { unmount } = renderWith(<TeamPage app={app(MemberRole.OWNER)} />, transport);
    await userEvent.click(await screen.findByRole("button", { name: "Remove a@example.com" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, remove" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("An application needs at least one owner.");
    unmount();

    renderWith(<TeamPage app={app(MemberRole.ADMIN)} />, transport);
    expect(await screen.findByText("Only owners add and remove members and change their roles.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Remove|Add member/ })).toBeNull();
  });

  describe("changing a role", () => {
    // A list served from memory that AddMember updates the way the server does: an
    // existing member's email changes their role (refusing the last owner's demotion).
    function server(members: Member[], caller = "d-me") {
      const added: AddMemberRequest[] = [];
      const transport = createRouterTransport(({ service }) =>
        service(AdminService, {
          getCaller: () => ({ developerId: caller }),
          listMembers: () => ({ members }),
          addMember: (req) => {
            added.push(req);
            const i = members.findIndex((m) => m.email === req.email);
            const owners = members.filter((m) => m.role === MemberRole.OWNER && !m.pending).length;
            if (members[i].role === MemberRole.OWNER && req.role !== MemberRole.OWNER && owners <= 1) {
              throw serverError(Code.FailedPrecondition, "LAST_OWNER");
            }
            members = members.map((m, j) => (j === i ? create(MemberSchema, { ...m, role: req.role }) : m));
            return { member: members[i], invited: false };
          },
        }),
      );
      return { transport, added };
    }
    const me = (role = MemberRole.OWNER) => create(MemberSchema, { developerId: "d-me", email: "me@example.com", role });
    const ed = create(MemberSchema, { developerId: "d-ed", email: "ed@example.com", role: MemberRole.ADMIN });
    const invited = create(MemberSchema, { developerId: "inv-1", email: "new@example.com", role: MemberRole.ADMIN, pending: true });

    it("sends AddMember with the member's email and the chosen role only when asked, and shows the new role", async () => {
      const { transport, added } = server([me(), ed, invited]);
      renderWith(<TeamPage app={app(MemberRole.OWNER)} />, transport);
      const select = await screen.findByRole("combobox", { name: "Role of ed@example.com" });
      expect(select).toHaveValue(String(MemberRole.ADMIN));
      // The pending invitation keeps its role as text: it has no select.
      expect(screen.queryByRole("combobox", { name: /new@example.com/ })).toBeNull();
      expect(screen.getByRole("row", { name: /new@example.com/ })).toHaveTextContent("Admin");

      await userEvent.selectOptions(select, "Viewer");
      expect(added).toHaveLength(0);
      // The keyboard reaches the button right after the select.
      await userEvent.tab();
      const button = screen.getByRole("button", { name: "Change role of ed@example.com" });
      expect(button).toHaveFocus();
      await userEvent.keyboard("{Enter}");
      expect(await screen.findByText("ed@example.com is now viewer.")).toBeInTheDocument();
      expect(added).toEqual([expect.objectContaining({ appId: "app-1", email: "ed@example.com", role: MemberRole.VIEWER })]);
      expect(await screen.findByRole("combobox", { name: "Role of ed@example.com" })).toHaveValue(String(MemberRole.VIEWER));
      expect(screen.queryByRole("button", { name: /Change role/ })).toBeNull();
    });

    it("asks an owner before they demote themselves", async () => {
      const other = create(MemberSchema, { developerId: "d-bo", email: "bo@example.com", role: MemberRole.OWNER });
      const cy = create(MemberSchema, { developerId: "d-cy", email: "cy@example.com", role: MemberRole.OWNER });
      const { transport, added } = server([me(), other, cy]);
      renderWith(<TeamPage app={app(MemberRole.OWNER)} />, transport);
      await userEvent.selectOptions(await screen.findByRole("combobox", { name: "Your role (me@example.com)" }), "Admin");
      await userEvent.click(screen.getByRole("button", { name: "Change role of you" }));
      expect(screen.getByRole("group", { name: /Make yourself admin\?/ })).toBeInTheDocument();
      // Cancel is focused: Enter on it keeps the role.
      expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
      await userEvent.keyboard("{Enter}");
      expect(added).toHaveLength(0);

      await userEvent.click(screen.getByRole("button", { name: "Change role of you" }));
      await userEvent.click(screen.getByRole("button", { name: "Yes, change my role" }));
      expect(await screen.findByText("You are now admin.")).toBeInTheDocument();
      expect(added).toEqual([expect.objectContaining({ email: "me@example.com", role: MemberRole.ADMIN })]);

      // Changing another owner's role asks nothing.
      await userEvent.selectOptions(screen.getByRole("combobox", { name: "Role of bo@example.com" }), "Viewer");
      await userEvent.click(screen.getByRole("button", { name: "Change role of bo@example.com" }));
      expect(await screen.findByText("bo@example.com is now viewer.")).toBeInTheDocument();
      expect(added[1]).toMatchObject({ email: "bo@example.com", role: MemberRole.VIEWER });
    });

    it("words the server's LAST_OWNER refusal and puts the select back", async () => {
      const { transport, added } = server([me(), ed]);
      renderWith(<TeamPage app={app(MemberRole.OWNER)} />, transport);
      const select = await screen.findByRole("combobox", { name: "Your role (me@example.com)" });
      await userEvent.selectOptions(select, "Viewer");
      await userEvent.click(screen.getByRole("button", { name: "Change role of you" }));
      await userEvent.click(screen.getByRole("button", { name: "Yes, change my role" }));
      expect(await screen.findByRole("alert")).toHaveTextContent(
        "An application needs at least one owner. Make someone else an owner first.",
      );
      expect(added).toEqual([expect.objectContaining({ email: "me@example.com", role: MemberRole.VIEWER })]);
      expect(select).toHaveValue(String(MemberRole.OWNER));
      expect(screen.queryByText(/is now|are now/)).toBeNull();
    });

    it.each([
      { who: "an admin", role: MemberRole.ADMIN },
      { who: "a viewer", role: MemberRole.VIEWER },
    ])("shows $who no enabled selector", async ({ role }) => {
      const { transport } = server([create(MemberSchema, { developerId: "d-o", email: "o@example.com", role: MemberRole.OWNER }), me(role), invited]);
      renderWith(<TeamPage app={app(role)} />, transport);
      await screen.findByText("o@example.com");
      const selects = screen.getAllByRole("combobox");
      expect(selects).toHaveLength(2);
      for (const s of selects) expect(s).toBeDisabled();
      expect(screen.getByRole("combobox", { name: "Role of o@example.com" })).toHaveValue(String(MemberRole.OWNER));
      expect(screen.queryByRole("button", { name: /Change role/ })).toBeNull();
    });
  });
});
