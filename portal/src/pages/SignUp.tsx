// Developers signing up to the console themselves, when the operator turned
// it on: the console application's public GetApplication says so, and the
// sign-up runs the console app's own flow (a mailed code, its password rules).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { SignupFlow, type PasswordPolicy } from "@gen/cosync/auth/v1/types_pb";
import type { SessionStore } from "../api/session";
import { problemOf, type Problem } from "../api/errors";
import { href } from "../router";
import { TextField } from "../ui/fields";
import { ErrorBanner, Loading, Notice } from "../ui/feedback";

const emailRE = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

/** passwordProblems lists what a password misses of the policy, in words; empty when it fits. */
export function passwordProblems(pw: string, p: PasswordPolicy | undefined): string[] {
  const min = p?.minLength || 8;
  const out: string[] = [];
  if (pw.length < min) out.push(`at least ${min} characters`);
  if (p?.requireUpper && !/[A-Z]/.test(pw)) out.push("an upper-case letter");
  if (p?.requireLower && !/[a-z]/.test(pw)) out.push("a lower-case letter");
  if (p?.requireDigit && !/[0-9]/.test(pw)) out.push("a digit");
  if (p?.requireSpecial && !/[^A-Za-z0-9]/.test(pw)) out.push("a symbol");
  return out;
}

/** useDeveloperSignup tells whether the console accepts sign-ups (false while unknown). */
export function useDeveloperSignup() {
  const q = useQuery(AuthService.method.getApplication, {}, { staleTime: 60_000 });
  return { enabled: q.data?.application?.signupEnabled ?? false, application: q.data?.application, query: q };
}

export function DeveloperSignUp({ session }: { session: SessionStore }) {
  const { enabled, application, query } = useDeveloperSignup();
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [stage, setStage] = useState<"form" | "code" | "link">("form");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const signUp = useMutation(AuthService.method.signUp);
  const complete = useMutation(AuthService.method.completeSignUp);
  const policy = application?.passwordPolicy;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!emailRE.test(handle.trim())) errs.handle = "Enter your email address.";
    const missing = passwordProblems(password, policy);
    if (missing.length) errs.password = `The password needs ${missing.join(", ")}.`;
    setErrors(errs);
    setProblem(null);
    if (Object.keys(errs).length) return;
    signUp.mutate(
      { handle: handle.trim(), password },
      {
        onSuccess: (res) => {
          if (res.session) session.signIn(res.session);
          else setStage(res.flow === SignupFlow.LINK ? "link" : "code");
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };
  const finish = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    if (!/^[0-9]{6}$/.test(code.trim())) {
      setErrors({ code: "Enter the six digits from the mail." });
      return;
    }
    setErrors({});
    complete.mutate(
      { handle: handle.trim(), code: code.trim() },
      {
        onSuccess: (res) => {
          if (res.session) session.signIn(res.session);
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };

  if (query.isPending) {
    return (
      <main className="auth-page" id="main" tabIndex={-1}>
        <Loading what="sign-up" />
      </main>
    );
  }
  if (!enabled) {
    return (
      <main className="auth-page" id="main" tabIndex={-1}>
        <h1>Create a developer account</h1>
        <Notice>This server does not take sign-ups: ask its operator to add you to an application.</Notice>
        <p>
          <a href={href({ page: "apps" })}>Back to sign in</a>
        </p>
      </main>
    );
  }
  if (stage === "link") {
    return (
      <main className="auth-page" id="main" tabIndex={-1}>
        <h1>Check your mail</h1>
        <Notice>We mailed {handle.trim()} a link. Open it to finish, then sign in.</Notice>
        <p>
          <a href={href({ page: "apps" })}>Sign in</a>
        </p>
      </main>
    );
  }
  if (stage === "code") {
    return (
      <main className="auth-page" id="main" tabIndex={-1}>
        <h1>Check your mail</h1>
        <p>We mailed a six-digit code to {handle.trim()}.</p>
        <form onSubmit={finish} noValidate aria-label="Confirm sign-up">
          <ErrorBanner problem={problem} />
          <TextField label="Code from the mail" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} error={errors.code} required />
          <button type="submit" disabled={complete.isPending}>
            Create account
          </button>{" "}
          <button type="button" className="secondary" onClick={() => setStage("form")}>
            Start again
          </button>
        </form>
      </main>
    );
  }
  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <h1>Create a developer account</h1>
      <form onSubmit={submit} noValidate aria-label="Create a developer account">
        <ErrorBanner problem={problem} />
        <TextField label="Email" type="email" autoComplete="username" value={handle} onChange={setHandle} error={errors.handle} required />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          error={errors.password}
          hint={`At least ${policy?.minLength || 8} characters.`}
          required
        />
        <button type="submit" disabled={signUp.isPending}>
          Sign up
        </button>
      </form>
      <p>
        <a href={href({ page: "apps" })}>I have an account: sign in</a>
      </p>
    </main>
  );
}
