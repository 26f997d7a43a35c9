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
    expect(await screen.findByText("Only owners add and remove members.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Remove|Add member/ })).toBeNull();
  });
});

