import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AuthService, type SignUpRequest } from "@gen/cosync/auth/v1/auth_pb";
import { ApplicationSchema, PasswordPolicySchema, SessionSchema, SignupFlow, UserSchema } from "@gen/cosync/auth/v1/types_pb";
import { SessionStore } from "../api/session";
import { renderWith, serverError } from "../test/util";
import { SignIn } from "./SignIn";
import { DeveloperSignUp, passwordProblems } from "./SignUp";

const consoleApp = (signupEnabled: boolean) =>
  create(ApplicationSchema, { id: "console", signupEnabled, passwordPolicy: create(PasswordPolicySchema, { minLength: 10, requireDigit: true }) });

describe("developer sign-up", () => {
  it("is offered on the sign-in page only when the console application takes sign-ups", async () => {
    const off = createRouterTransport(({ service }) => service(AuthService, { getApplication: () => ({ application: consoleApp(false) }) }));
    const { unmount } = renderWith(<SignIn session={new SessionStore()} />, off);
    expect(await screen.findByText(/Ask the server's operator/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Create a developer account" })).toBeNull();
    unmount();
    const on = createRouterTransport(({ service }) => service(AuthService, { getApplication: () => ({ application: consoleApp(true) }) }));
    renderWith(<SignIn session={new SessionStore()} />, on);
    expect(await screen.findByRole("link", { name: "Create a developer account" })).toHaveAttribute("href", "#/signup");
  });

  it("checks the console's password rules, then signs in with the mailed code", async () => {
    const signups: SignUpRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AuthService, {
        getApplication: () => ({ application: consoleApp(true) }),
        signUp: (req) => {
          signups.push(req);
          return { flow: SignupFlow.CODE };
        },
        completeSignUp: (req) => {
          if (req.code !== "123456") throw serverError(Code.InvalidArgument, "INVALID_CODE");
          return { session: create(SessionSchema, { accessToken: "a", refreshToken: "r", user: create(UserSchema, { email: req.handle }) }) };
        },
      }),
    );
    const store = new SessionStore();
    renderWith(<DeveloperSignUp session={store} />, transport);
    await userEvent.type(await screen.findByLabelText(/^Email/), "new@example.com");
    await userEvent.type(screen.getByLabelText(/^Password/), "short");
    await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    expect(screen.getByLabelText(/^Password/)).toHaveAccessibleDescription(/The password needs at least 10 characters, a digit\./);
    expect(signups).toHaveLength(0);

    await userEvent.type(screen.getByLabelText(/^Password/), "-long-enough-1");
    await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByRole("heading", { name: "Check your mail" })).toBeInTheDocument();
    expect(signups[0]).toMatchObject({ handle: "new@example.com", password: "short-long-enough-1" });

    await userEvent.type(screen.getByLabelText(/Code from the mail/), "654321");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code is not right.");
    await userEvent.clear(screen.getByLabelText(/Code from the mail/));
    await userEvent.type(screen.getByLabelText(/Code from the mail/), "123456");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    await vi.waitFor(() => expect(store.current?.user?.email).toBe("new@example.com"));
  });

  it("says plainly when the server takes no sign-ups", async () => {
    const transport = createRouterTransport(({ service }) => service(AuthService, { getApplication: () => ({ application: consoleApp(false) }) }));
    renderWith(<DeveloperSignUp session={new SessionStore()} />, transport);
    expect(await screen.findByText(/This server does not take sign-ups/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign up" })).toBeNull();
  });

  it("lists what a password misses", () => {
    const p = create(PasswordPolicySchema, { minLength: 8, requireUpper: true, requireLower: true, requireDigit: true, requireSpecial: true });
    expect(passwordProblems("abc", p)).toEqual(["at least 8 characters", "an upper-case letter", "a digit", "a symbol"]);
    expect(passwordProblems("Abcdefg1!", p)).toEqual([]);
    expect(passwordProblems("12345678", undefined)).toEqual([]);
  });
});
