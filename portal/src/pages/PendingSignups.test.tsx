import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { AdminService, type DeletePendingSignupRequest, type ResendPendingSignupRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, MemberRole, PendingSignupSchema } from "@gen/cosync/admin/v1/types_pb";
import { age, PendingSignupsPage } from "./PendingSignups";
import { renderWith } from "../test/util";

describe("age", () => {
  it("says how long ago, in the largest whole unit", () => {
    const now = Date.UTC(2026, 11, 6, 12);
    expect(age(undefined, now)).toBe("—");
    expect(age(now - 30_000, now)).toBe("just now");
    expect(age(now - 5 * 60_000, now)).toBe("5 min");
    expect(age(now - 3 * 3600_000, now)).toBe("3 h");
    expect(age(now - 2 * 86400_000, now)).toBe("2 d");
  });
});

describe("PendingSignupsPage", () => {
  it("resends a code and deletes a sign-up after asking", async () => {
    let pending = [create(PendingSignupSchema, { id: "p1", handle: "zoe@example.com", metadata: { plan: "pro" } })];
    const resent: ResendPendingSignupRequest[] = [];
    const deleted: DeletePendingSignupRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listPendingSignups: () => ({ pendingSignups: pending }),
        resendPendingSignup: (req) => {
          resent.push(req);
          return { pendingSignup: pending[0] };
        },
        deletePendingSignup: (req) => {
          deleted.push(req);
          pending = [];
          return {};
        },
      }),
    );
    renderWith(<PendingSignupsPage app={create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.ADMIN })} />, transport);
    expect(await screen.findByRole("cell", { name: "zoe@example.com" })).toBeInTheDocument();
    expect(screen.getByText('{"plan":"pro"}')).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Resend code to zoe@example.com" }));
    expect(await screen.findByText("Sent zoe@example.com a new code.")).toBeInTheDocument();
    expect(resent[0]).toMatchObject({ appId: "app-1", pendingSignupId: "p1" });
    await userEvent.click(screen.getByRole("button", { name: "Delete the sign-up of zoe@example.com" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(await screen.findByRole("heading", { name: "Nobody is waiting for a code" })).toBeInTheDocument();
    expect(deleted[0]).toMatchObject({ pendingSignupId: "p1" });
    expect(screen.getByText(/Sign-up is off for this application/)).toBeInTheDocument();
  });
});
