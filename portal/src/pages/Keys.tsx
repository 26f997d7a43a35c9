// The application's signing keys: the JWKS URL a backend trusts, each key's
// PEM and JWK to copy, and rotation with its overlap explained.
import { useState } from "react";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { KeyState, MemberRole, type App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { formatDuration, formatTime } from "../api/format";
import { CopyButton, EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";

const stateNames: Record<KeyState, string> = {
  [KeyState.UNSPECIFIED]: "—",
  [KeyState.ACTIVE]: "Signing",
  [KeyState.VERIFYING]: "Verifying only",
  [KeyState.RETIRED]: "Retired",
};

export function KeysPage({ app }: { app: App }) {
  const keys = useQuery(AdminService.method.listSigningKeys, { appId: app.id });
  const rotate = useMutation(AdminService.method.rotateSigningKey);
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const canRotate = app.role === MemberRole.OWNER; // rotating a key is an owner's call, as the server rules
  const lifetime = formatDuration(app.settings?.tokenLifetime) || "1h";
  const retire = formatDuration(app.settings?.keyRotation?.retireAfter) || `${lifetime} plus 1h`;

  const doRotate = () => {
    setProblem(null);
    rotate.mutate(
      { appId: app.id },
      {
        onSuccess: async (res) => {
          setConfirming(false);
          setNote(`The new key ${res.key?.kid.slice(0, 12) ?? ""}… signs from now on; the previous key keeps verifying for ${retire}.`);
          await qc.invalidateQueries();
        },
        onError: (err) => setProblem(problemOf(err)),
      },
    );
  };

  return (
    <>
      <section className="card" aria-labelledby="trust-heading">
        <h2 id="trust-heading">What your backend trusts</h2>
        <dl className="pairs">
          <dt>JWKS URL</dt>
          <dd>
            <code data-testid="jwks-url">{app.jwksUrl}</code> <CopyButton text={app.jwksUrl} label="JWKS URL" />
          </dd>
          <dt>Issuer (iss)</dt>
          <dd>
            <code>{app.issuer}</code> <CopyButton text={app.issuer} label="issuer" />
          </dd>
          <dt>Audience (aud)</dt>
          <dd>
            <code>{(app.settings?.audience.length ? app.settings.audience : [app.id]).join(", ")}</code>
          </dd>
        </dl>
        <p className="hint">
          For MongoDB Atlas App Services, choose Custom JWT Authentication, "Use a JWK URI", and paste the JWKS URL; set the audience to your Atlas
          App ID in Settings.
        </p>
      </section>

      <section className="card" aria-labelledby="rotate-heading">
        <h2 id="rotate-heading">Rotate the signing key</h2>
        <p>
          Rotating makes a new key sign every new token at once. The current key is not dropped: it stays in the JWKS, verifying only, for{" "}
          {retire}, so tokens already handed out (they live {lifetime}) keep verifying until they expire. Backends that cache the JWKS pick up
          the new key on their next fetch.
        </p>
        <ErrorBanner problem={problem} />
        <Notice>{note}</Notice>
        {!canRotate ? (
          <p className="hint">Only owners rotate keys.</p>
        ) : confirming ? (
          <div className="actions" role="group" aria-label="Confirm rotation">
            <button type="button" className="danger" onClick={doRotate} disabled={rotate.isPending}>
              {rotate.isPending ? "Rotating…" : "Yes, rotate now"}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Rotate key…
          </button>
        )}
      </section>

      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys</h2>
        {keys.isPending ? <Loading what="keys" /> : null}
        {keys.error ? <ErrorBanner problem={problemOf(keys.error)} /> : null}
        {keys.data && keys.data.keys.length === 0 ? (
          <EmptyState title="No keys">
            <p>This application has no signing key; rotate to make one.</p>
          </EmptyState>
        ) : null}
        {keys.data?.keys.map((k) => {
          const jwk = k.jwk ? JSON.stringify(k.jwk, null, 2) : "";
          return (
            <article className="card key" key={k.kid} aria-label={`Key ${k.kid}`}>
              <h3>
                <span className={`badge state-${k.state}`}>{stateNames[k.state]}</span> <code className="kid">{k.kid}</code>
              </h3>
              <p className="hint">
                {k.algorithm} · created {formatTime(k.createdAt)}
                {k.deactivatedAt ? ` · stopped signing ${formatTime(k.deactivatedAt)}` : ""}
                {k.retireAt ? ` · leaves the JWKS ${formatTime(k.retireAt)}` : ""}
              </p>
              <details>
                <summary>Public key (PEM)</summary>
                <pre className="mono">{k.publicKeyPem}</pre>
                <CopyButton text={k.publicKeyPem} label={`PEM of key ${k.kid.slice(0, 8)}`} />
              </details>
              <details>
                <summary>Public key (JWK)</summary>
                <pre className="mono">{jwk}</pre>
                <CopyButton text={jwk} label={`JWK of key ${k.kid.slice(0, 8)}`} />
              </details>
            </article>
          );
        })}
      </section>
    </>
  );
}
