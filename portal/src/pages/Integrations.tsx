// Ready configuration for the backends that verify this application's
// tokens (MongoDB Atlas App Services, PowerSync, Hasura, Supabase, any OIDC
// verifier), written by the server from the app's real JWKS URL, issuer,
// audience and metadata fields, each with a copy button.
import { useQuery } from "@connectrpc/connect-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import type { App } from "@gen/cosync/admin/v1/types_pb";
import { problemOf } from "../api/errors";
import { CopyButton, EmptyState, ErrorBanner, Loading } from "../ui/feedback";

export function IntegrationsPage({ app }: { app: App }) {
  const q = useQuery(AdminService.method.getIntegrationSnippets, { appId: app.id });
  return (
    <>
      <p className="hint">Paste these where each backend asks for them. They name this application's JWKS URL, issuer and audience.</p>
      {q.isPending ? <Loading what="the integration snippets" /> : null}
      {q.error ? <ErrorBanner problem={problemOf(q.error)} /> : null}
      {q.data ? (
        <section className="card" aria-labelledby="endpoints-heading">
          <h2 id="endpoints-heading">Endpoints</h2>
          <dl className="pairs">
            <dt>JWKS URL</dt>
            <dd>
              <code>{q.data.jwksUrl}</code> <CopyButton text={q.data.jwksUrl} label="JWKS URL" />
            </dd>
            <dt>Issuer</dt>
            <dd>
              <code>{q.data.issuer}</code> <CopyButton text={q.data.issuer} label="issuer" />
            </dd>
            {q.data.openidConfigurationUrl ? (
              <>
                <dt>OpenID configuration</dt>
                <dd>
                  <code>{q.data.openidConfigurationUrl}</code> <CopyButton text={q.data.openidConfigurationUrl} label="OpenID configuration URL" />
                </dd>
              </>
            ) : null}
          </dl>
        </section>
      ) : null}
      {q.data && q.data.snippets.length === 0 ? (
        <EmptyState title="No snippets">
          <p>This server offers no integration snippets; use the JWKS URL and issuer above.</p>
        </EmptyState>
      ) : null}
      {q.data?.snippets.map((s) => (
        <article className="card" key={s.consumer} aria-labelledby={`snippet-${s.consumer}`}>
          <h2 id={`snippet-${s.consumer}`}>{s.title || s.consumer}</h2>
          {s.instructions ? <p>{s.instructions}</p> : null}
          <pre className="mono" aria-label={`${s.title || s.consumer} (${s.format})`} tabIndex={0}>
            {s.content}
          </pre>
          <CopyButton text={s.content} label={`${s.title || s.consumer} snippet`} />
        </article>
      ))}
    </>
  );
}
