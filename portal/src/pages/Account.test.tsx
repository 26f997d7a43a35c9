import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AuthService, type ChangePasswordRequest } from "@gen/cosync/auth/v1/auth_pb";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { SessionSchema, TwoFactorMethod, UserSchema, type User } from "@gen/cosync/auth/v1/types_pb";
import { SessionStore } from "../api/session";
import { renderWith, serverError } from "../test/util";
import { AccountPage, pngDataUrl } from "./Account";

function server(opts: { required?: boolean } = {}) {
  let user: User = create(UserSchema, { id: "d1", email: "dev@example.com", twoFactor: TwoFactorMethod.NONE });
  const changes: ChangePasswordRequest[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(AuthService, {
      getUser: () => ({ user }),
      beginTotpEnrollment: () => ({ secret: "JBSWY3DPEHPK3PXP", uri: "otpauth://totp/x", qrPng: new Uint8Array([137, 80, 78, 71]) }),
      confirmTotpEnrollment: (req) => {
        if (req.code !== "123456") throw serverError(Code.InvalidArgument, "INVALID_CODE");
        user = create(UserSchema, { ...user, twoFactor: TwoFactorMethod.TOTP });
        return { recoveryCodes: ["abcde-fghij", "klmno-pqrst"], user };
      },
      disableTwoFactor: (req) => {
        if (req.password !== "pw-123456") throw serverError(Code.Unauthenticated, "INVALID_CREDENTIALS");
        user = create(UserSchema, { ...user, twoFactor: TwoFactorMethod.NONE });
        return { user };
      },
      changePassword: (req) => {
        changes.push(req);
        return { session: create(SessionSchema, { accessToken: "fresh", refreshToken: "r2" }) };
      },
    });
    service(AdminService, { getCaller: () => ({ developerId: "d1", developerTwoFactorRequired: opts.required ?? false }) });
  });
  return { transport, changes };
}

describe("AccountPage", () => {
  it("sets up an authenticator app, shows the recovery codes once, and removes it with the password", async () => {
    const srv = server();
    renderWith(<AccountPage session={new SessionStore()} />, srv.transport);
    await userEvent.click(await screen.findByRole("button", { name: "Set up an authenticator app" }));
    expect(await screen.findByTestId("totp-secret")).toHaveTextContent("JBSWY3DPEHPK3PXP");
    expect(screen.getByRole("img", { name: "QR code for your authenticator app" })).toHaveAttribute("src", "data:image/png;base64,iVBORw==");

    await userEvent.type(screen.getByLabelText(/Code from the app/), "654321");
    await userEvent.click(screen.getByRole("button", { name: "Turn on" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code is not right.");
    await userEvent.clear(screen.getByLabelText(/Code from the app/));
    await userEvent.type(screen.getByLabelText(/Code from the app/), "123456");
    await userEvent.click(screen.getByRole("button", { name: "Turn on" }));
    expect(await screen.findByTestId("recovery-codes")).toHaveTextContent("abcde-fghij klmno-pqrst");
    expect(await screen.findByText("Signing in asks for a code from your authenticator app.")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText(/Your password/), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Remove the second factor" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That email and password do not match an account.");
    await userEvent.clear(screen.getByLabelText(/Your password/));
    await userEvent.type(screen.getByLabelText(/Your password/), "pw-123456");
    await userEvent.click(screen.getByRole("button", { name: "Remove the second factor" }));
    expect(await screen.findByText("Second factor removed: you sign in with your password alone.")).toBeInTheDocument();
  });

  it("says when the operator requires a second factor", async () => {
    renderWith(<AccountPage session={new SessionStore()} />, server({ required: true }).transport);
    expect(await screen.findByText("This server requires a second factor for every developer: set one up now.")).toBeInTheDocument();
  });

  it("changes the password and keeps the fresh session the server returns", async () => {
    const srv = server();
    const store = new SessionStore();
    renderWith(<AccountPage session={store} />, srv.transport);
    await userEvent.click(await screen.findByRole("button", { name: "Change password" }));
    expect(screen.getByLabelText(/New password/)).toHaveAccessibleDescription("Use at least 8 characters.");
    expect(srv.changes).toHaveLength(0);
    await userEvent.type(screen.getByLabelText(/Current password/), "pw-123456");
    await userEvent.type(screen.getByLabelText(/New password/), "pw-7654321");
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText("Password changed; your other sessions are signed out.")).toBeInTheDocument();
    await waitFor(() => expect(store.current?.accessToken).toBe("fresh"));
    expect(srv.changes[0]).toMatchObject({ password: "pw-123456", newPassword: "pw-7654321" });
  });

  it("encodes PNG bytes as a data URL", () => {
    expect(pngDataUrl(new Uint8Array([0, 255]))).toBe("data:image/png;base64,AP8=");
  });
});
