// Signing in to the console application: password first, then the second
// factor when the account has one; forgot and reset password beside it.
import { useState, type FormEvent } from "react";
import { useMutation } from "@connectrpc/connect-query";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { TwoFactorMethod, type Challenge } from "@gen/cosync/auth/v1/types_pb";
import type { SessionStore } from "../api/session";
import { problemOf, type Problem } from "../api/errors";
import { href, navigate } from "../router";
import { TextField } from "../ui/fields";
import { ErrorBanner, Notice } from "../ui/feedback";
import { useDeveloperSignup } from "./SignUp";

const codePattern = /^([0-9]{6}|[a-z2-7]{5}-[a-z2-7]{5})$/;

export function SignIn({ session }: { session: SessionStore }) {
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const login = useMutation(AuthService.method.login);
  const signup = useDeveloperSignup();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!handle.trim()) errs.handle = "Enter your email.";
    if (!password) errs.password = "Enter your password.";
    setErrors(errs);
    setProblem(null);
    if (Object.keys(errs).length) return;
    login.mutate(
      { handle: handle.trim(), password },
      {
        onSuccess: (res) => {
          if (res.result.case === "session") session.signIn(res.result.value);
          else if (res.result.case === "challenge") setChallenge(res.result.value);
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };

  if (challenge) {
    return <SecondFactor session={session} challenge={challenge} onRestart={() => setChallenge(null)} />;
  }
  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <h1>Sign in to CoSync Auth</h1>
      <Notice>{session.notice}</Notice>
      <form onSubmit={submit} noValidate aria-label="Sign in">
        <ErrorBanner problem={problem} />
        <TextField label="Email" type="email" autoComplete="username" value={handle} onChange={setHandle} error={errors.handle} required />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
          error={errors.password}
          required
        />
        <button type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <a href={href({ page: "forgot" })}>Forgot your password?</a>
      </p>
      {signup.enabled ? (
        <p>
          No account yet? <a href={href({ page: "signup" })}>Create a developer account</a>
        </p>
      ) : (
        <p className="hint">
          No account yet? Ask the server's operator: they add developers with <code>cosync-auth developer create</code>, or turn on sign-up.
        </p>
      )}
    </main>
  );
}

function SecondFactor({ session, challenge, onRestart }: { session: SessionStore; challenge: Challenge; onRestart: () => void }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const complete = useMutation(AuthService.method.completeLogin);
  const how =
    challenge.method === TwoFactorMethod.SMS
      ? `Enter the six-digit code we texted to ${challenge.phoneHint || "your phone"}.`
      : "Enter the six-digit code from your authenticator app.";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const c = code.trim().toLowerCase();
    setProblem(null);
    if (!codePattern.test(c)) {
      setError("Enter six digits, or a recovery code like abcde-fghij.");
      return;
    }
    setError("");
    complete.mutate(
      { loginToken: challenge.loginToken, code: c },
      {
        onSuccess: (res) => {
          if (res.session) session.signIn(res.session);
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setError(p.fields.code ?? "");
        },
      },
    );
  };

  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <h1>Second step</h1>
      <p>{how} A recovery code works too.</p>
      <form onSubmit={submit} noValidate aria-label="Second factor">
        <ErrorBanner problem={problem} />
        <TextField label="Code" autoComplete="one-time-code" inputMode="text" value={code} onChange={setCode} error={error} required />
        <button type="submit" disabled={complete.isPending}>
          {complete.isPending ? "Checking…" : "Continue"}
        </button>{" "}
        <button type="button" className="secondary" onClick={onRestart}>
          Start again
        </button>
      </form>
    </main>
  );
}

export function ForgotPassword() {
  const [handle, setHandle] = useState("");
  const [error, setError] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const forgot = useMutation(AuthService.method.forgotPassword);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    if (!handle.trim()) {
      setError("Enter your email.");
      return;
    }
    setError("");
    forgot.mutate(
      { handle: handle.trim() },
      {
        onSuccess: () => navigate({ page: "reset", handle: handle.trim() }),
        onError: (err) => setProblem(problemOf(err)),
      },
    );
  };
  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <h1>Reset your password</h1>
      <p>We mail a six-digit code to your address if it has an account.</p>
      <form onSubmit={submit} noValidate aria-label="Forgot password">
        <ErrorBanner problem={problem} />
        <TextField label="Email" type="email" autoComplete="username" value={handle} onChange={setHandle} error={error} required />
        <button type="submit" disabled={forgot.isPending}>
          Send the code
        </button>
      </form>
      <p>
        <a href={href({ page: "apps" })}>Back to sign in</a>
      </p>
    </main>
  );
}

export function ResetPassword({ initialHandle }: { initialHandle: string }) {
  const [handle, setHandle] = useState(initialHandle);
  const [code, setCode] = useState("");
  const [pw, setPw] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const reset = useMutation(AuthService.method.resetPassword);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!handle.trim()) errs.handle = "Enter your email.";
    if (!/^[0-9]{6}$/.test(code.trim())) errs.code = "Enter the six digits from the mail.";
    if (pw.length < 8) errs.new_password = "Use at least 8 characters.";
    setErrors(errs);
    setProblem(null);
    if (Object.keys(errs).length) return;
    reset.mutate(
      { handle: handle.trim(), code: code.trim(), newPassword: pw },
      {
        onSuccess: () => setDone(true),
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };
  if (done) {
    return (
      <main className="auth-page" id="main" tabIndex={-1}>
        <h1>Password changed</h1>
        <Notice>Your password is changed and your other sessions are signed out.</Notice>
        <p>
          <a href={href({ page: "apps" })}>Sign in with the new password</a>
        </p>
      </main>
    );
  }
  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <h1>Choose a new password</h1>
      <form onSubmit={submit} noValidate aria-label="Reset password">
        <ErrorBanner problem={problem} />
        <TextField label="Email" type="email" autoComplete="username" value={handle} onChange={setHandle} error={errors.handle} required />
        <TextField label="Code from the mail" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} error={errors.code} required />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          value={pw}
          onChange={setPw}
          error={errors.new_password}
          hint="At least 8 characters."
          required
        />
        <button type="submit" disabled={reset.isPending}>
          Change password
        </button>
      </form>
      <p>
        <a href={href({ page: "forgot" })}>Send a new code</a>
      </p>
    </main>
  );
}
