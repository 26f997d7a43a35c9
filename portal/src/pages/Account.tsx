// The signed-in developer's own account in the console application: their
// second factor (an authenticator app, with recovery codes shown once) and
// their password. An operator may require a second factor of every developer.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AuthService } from "@gen/cosync/auth/v1/auth_pb";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { TwoFactorMethod } from "@gen/cosync/auth/v1/types_pb";
import type { SessionStore } from "../api/session";
import { problemOf, type Problem } from "../api/errors";
import { TextField } from "../ui/fields";
import { CopyButton, ErrorBanner, Loading, Notice } from "../ui/feedback";

/** pngDataUrl turns the server's QR PNG into an img src (the CSP allows data: images). */
export function pngDataUrl(png: Uint8Array): string {
  let bin = "";
  for (const b of png) bin += String.fromCharCode(b);
  return `data:image/png;base64,${btoa(bin)}`;
}

export function AccountPage({ session }: { session: SessionStore }) {
  const me = useQuery(AuthService.method.getUser, {});
  const caller = useQuery(AdminService.method.getCaller, {});
  return (
    <>
      <h1>Your account</h1>
      {me.isPending ? <Loading what="your account" /> : null}
      {me.error ? <ErrorBanner problem={problemOf(me.error)} /> : null}
      {me.data?.user ? (
        <>
          <p>
            Signed in as <strong>{me.data.user.email}</strong>
            {caller.data?.operator ? " · operator of this server" : ""}.
          </p>
          <SecondFactor enrolled={me.data.user.twoFactor === TwoFactorMethod.TOTP || me.data.user.twoFactor === TwoFactorMethod.SMS} required={caller.data?.developerTwoFactorRequired ?? false} />
          <ChangePassword session={session} />
        </>
      ) : null}
    </>
  );
}

function SecondFactor({ enrolled, required }: { enrolled: boolean; required: boolean }) {
  const begin = useMutation(AuthService.method.beginTotpEnrollment);
  const confirm = useMutation(AuthService.method.confirmTotpEnrollment);
  const disable = useMutation(AuthService.method.disableTwoFactor);
  const qc = useQueryClient();
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [recovery, setRecovery] = useState<string[]>([]);
  const [note, setNote] = useState("");
  const fail = (err: unknown) => {
    const p = problemOf(err);
    setProblem(p);
    setError(p.fields.code ?? p.fields.password ?? "");
  };
  const start = () => {
    setProblem(null);
    setNote("");
    begin.mutate({}, { onError: fail });
  };
  const finish = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    if (!/^[0-9]{6}$/.test(code.trim())) {
      setError("Enter the six digits your authenticator app shows.");
      return;
    }
    setError("");
    confirm.mutate(
      { code: code.trim() },
      {
        onSuccess: async (res) => {
          setRecovery(res.recoveryCodes);
          begin.reset();
          setCode("");
          await qc.invalidateQueries();
        },
        onError: fail,
      },
    );
  };
  const turnOff = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    if (!password) {
      setError("Enter your password.");
      return;
    }
    setError("");
    disable.mutate(
      { password },
      {
        onSuccess: async () => {
          setPassword("");
          setNote("Second factor removed: you sign in with your password alone.");
          await qc.invalidateQueries();
        },
        onError: fail,
      },
    );
  };
  return (
    <section className="card" aria-labelledby="twofactor-heading">
      <h2 id="twofactor-heading">Second factor</h2>
      {required && !enrolled ? <Notice>This server requires a second factor for every developer: set one up now.</Notice> : null}
      <ErrorBanner problem={problem} />
      <Notice>{note}</Notice>
      {recovery.length ? (
        <div className="banner ok" role="status">
          <p>
            <strong>Your authenticator app is set up.</strong> Keep these recovery codes somewhere safe: each signs you in once if you lose the
            app, and they are shown only now.
          </p>
          <pre className="mono" data-testid="recovery-codes">
            {recovery.join("\n")}
          </pre>
          <CopyButton text={recovery.join("\n")} label="recovery codes" />
        </div>
      ) : null}
      {begin.data ? (
        <form onSubmit={finish} noValidate aria-label="Confirm the authenticator app">
          <p>Scan this code with your authenticator app, or type the key by hand, then enter the six digits it shows.</p>
          {begin.data.qrPng.length ? <img src={pngDataUrl(begin.data.qrPng)} alt="QR code for your authenticator app" width={200} height={200} /> : null}
          <p>
            Key: <code data-testid="totp-secret">{begin.data.secret}</code> <CopyButton text={begin.data.secret} label="authenticator key" />
          </p>
          <TextField label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} error={error} required />
          <button type="submit" disabled={confirm.isPending}>
            Turn on
          </button>
        </form>
      ) : enrolled ? (
        <form onSubmit={turnOff} noValidate aria-label="Remove the second factor">
          <p>Signing in asks for a code from your authenticator app.</p>
          {required ? (
            <p className="hint">This server requires a second factor: you cannot remove it.</p>
          ) : (
            <>
              <TextField label="Your password" type="password" autoComplete="current-password" value={password} onChange={setPassword} error={error} required />
              <button type="submit" className="danger" disabled={disable.isPending}>
                Remove the second factor
              </button>
            </>
          )}
        </form>
      ) : (
        <>
          <p>Without a second factor, your password alone opens every application you manage.</p>
          <button type="button" onClick={start} disabled={begin.isPending}>
            Set up an authenticator app
          </button>
        </>
      )}
    </section>
  );
}

function ChangePassword({ session }: { session: SessionStore }) {
  const change = useMutation(AuthService.method.changePassword);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!current) errs.password = "Enter your current password.";
    if (next.length < 8) errs.new_password = "Use at least 8 characters.";
    setErrors(errs);
    setProblem(null);
    setNote("");
    if (Object.keys(errs).length) return;
    change.mutate(
      { password: current, newPassword: next },
      {
        onSuccess: (res) => {
          // The server signs out other sessions and hands this one a fresh session.
          if (res.session) session.signIn(res.session);
          setCurrent("");
          setNext("");
          setNote("Password changed; your other sessions are signed out.");
        },
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setErrors(p.fields);
        },
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <ErrorBanner problem={problem} />
      <TextField label="Current password" type="password" autoComplete="current-password" value={current} onChange={setCurrent} error={errors.password} required />
      <TextField label="New password" type="password" autoComplete="new-password" value={next} onChange={setNext} error={errors.new_password} required />
      <button type="submit" disabled={change.isPending}>
        Change password
      </button>
      <Notice>{note}</Notice>
    </form>
  );
}
