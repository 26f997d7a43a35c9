import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { ChallengeSchema, SessionSchema, TwoFactorMethod, UserSchema } from "@gen/cosync/auth/v1/types_pb";
import { SessionStore } from "../api/session";
import { renderWith, serverError } from "../test/util";
import { ResetPassword, SignIn } from "./SignIn";

const session = (token: string) =>
  create(SessionSchema, { accessToken: token, refreshToken: "r1", user: create(UserSchema, { email: "dev@example.com" }) });

describe("SignIn", () => {
  it("asks for both fields before calling the server", async () => {
    const login = vi.fn();
    const transport = createRouterTransport(({ service }) => service(AuthService, { login }));
    renderWith(<SignIn session={new SessionStore()} />, transport);
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByLabelText(/Email/)).toHaveAccessibleDescription("Enter your email.");
    expect(screen.getByLabelText(/Password/)).toHaveAttribute("aria-invalid", "true");
    expect(login).not.toHaveBeenCalled();
  });

  it("shows the server's refusal in plain words", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AuthService, {
        login: () => {
          throw serverError(Code.Unauthenticated, "INVALID_CREDENTIALS");
        },
      }),
    );
    const store = new SessionStore();
    renderWith(<SignIn session={store} />, transport);
    await userEvent.type(screen.getByLabelText(/Email/), "dev@example.com");
    await userEvent.type(screen.getByLabelText(/Password/), "wrong-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That email and password do not match an account.");
    expect(store.current).toBeNull();
  });

  it("keeps the session the server returns", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AuthService, {
        login: (req) => {
          expect(req).toMatchObject({ handle: "dev@example.com", password: "pw-123456" });
          return { result: { case: "session", value: session("a1") } };
        },
      }),
    );
    const store = new SessionStore();
    renderWith(<SignIn session={store} />, transport);
    await userEvent.type(screen.getByLabelText(/Email/), " dev@example.com ");
    await userEvent.type(screen.getByLabelText(/Password/), "pw-123456");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(store.current?.accessToken).toBe("a1"));
  });

  it("asks for the second factor when challenged, and checks the code's shape", async () => {
    const completeLogin = vi.fn((req: { loginToken: string; code: string }) => {
      if (req.code !== "123456") throw serverError(Code.InvalidArgument, "INVALID_CODE", { code: "is not valid" });
      return { session: session("a2") };
    });
    const transport = createRouterTransport(({ service }) =>
      service(AuthService, {
        login: () => ({
          result: { case: "challenge", value: create(ChallengeSchema, { loginToken: "lt", method: TwoFactorMethod.SMS, phoneHint: "+1•••0100" }) },
        }),
        completeLogin,
      }),
    );
    const store = new SessionStore();
    renderWith(<SignIn session={store} />, transport);
    await userEvent.type(screen.getByLabelText(/Email/), "dev@example.com");
    await userEvent.type(screen.getByLabelText(/Password/), "pw-123456");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/texted to \+1•••0100/)).toBeInTheDocument();

    const code = screen.getByLabelText(/Code/);
    await userEvent.type(code, "12");
    await userEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(code).toHaveAccessibleDescription("Enter six digits, or a recovery code like abcde-fghij.");
    expect(completeLogin).not.toHaveBeenCalled();

    await userEvent.clear(code);
    await userEvent.type(code, "654321");
    await userEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code is not right.");
    expect(code).toHaveAccessibleDescription("is not valid");

    await userEvent.clear(code);
    await userEvent.type(code, "123456");
    await userEvent.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(store.current?.accessToken).toBe("a2"));
    expect(completeLogin).toHaveBeenLastCalledWith(expect.objectContaining({ loginToken: "lt", code: "123456" }), expect.anything());
  });
});

describe("ResetPassword", () => {
  it("checks the code and password, then shows the server's reason beside the field", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AuthService, {
        resetPassword: () => {
          throw serverError(Code.InvalidArgument, "PASSWORD_POLICY", { new_password: "must contain a digit" });
        },
      }),
    );
    renderWith(<ResetPassword initialHandle="dev@example.com" />, transport);
    await userEvent.type(screen.getByLabelText(/Code from the mail/), "12a");
    await userEvent.type(screen.getByLabelText(/New password/), "short");
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(screen.getByLabelText(/Code from the mail/)).toHaveAccessibleDescription("Enter the six digits from the mail.");
    expect(screen.getByLabelText(/New password/)).toHaveAccessibleDescription("At least 8 characters. Use at least 8 characters.");

    await userEvent.clear(screen.getByLabelText(/Code from the mail/));
    await userEvent.type(screen.getByLabelText(/Code from the mail/), "123456");
    await userEvent.type(screen.getByLabelText(/New password/), "-long-enough");
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The new password does not meet the password rules.");
    expect(screen.getByLabelText(/New password/)).toHaveAccessibleDescription("At least 8 characters. must contain a digit");
  });
});
