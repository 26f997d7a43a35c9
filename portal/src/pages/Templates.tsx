// Email templates per kind and locale, with a live preview rendered by the
// server (PreviewEmailTemplate) as the developer types.
import { useEffect, useState, type FormEvent } from "react";
import { create } from "@bufbuild/protobuf";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { keepPreviousData, useQueryClient } from "@tanstack/react-query";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { EmailTemplateSchema, MemberRole, TemplateKind, type App, type EmailTemplate } from "@gen/cosync/admin/v1/types_pb";
import { problemOf, type Problem } from "../api/errors";
import { HtmlPreview } from "../ui/HtmlPreview";
import { SelectField, TextAreaField, TextField } from "../ui/fields";
import { EmptyState, ErrorBanner, Loading, Notice } from "../ui/feedback";

export const kindNames: Record<TemplateKind, string> = {
  [TemplateKind.UNSPECIFIED]: "—",
  [TemplateKind.SIGNUP_CODE]: "Sign-up code",
  [TemplateKind.SIGNUP_LINK]: "Sign-up link",
  [TemplateKind.LINK_LANDING]: "Sign-up link landing page",
  [TemplateKind.WELCOME]: "Welcome",
  [TemplateKind.PASSWORD_RESET]: "Password reset",
  [TemplateKind.INVITE]: "Invitation",
  [TemplateKind.TOTP_QR]: "Authenticator QR code",
  [TemplateKind.SMS]: "SMS code",
  [TemplateKind.ACCOUNT_EXISTS]: "Account already exists",
};

/** useDebounced follows value after it has been still for ms. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function TemplatesPage({ app }: { app: App }) {
  const locales = useQuery(AdminService.method.listLocales, { appId: app.id });
  const enabled = locales.data?.enabled.length ? locales.data.enabled : (app.settings?.locales ?? ["en"]);
  const [locale, setLocale] = useState("");
  const current = locale || enabled[0] || "en";
  const list = useQuery(AdminService.method.listEmailTemplates, { appId: app.id, locale: current });
  const [kind, setKind] = useState<TemplateKind>(TemplateKind.SIGNUP_CODE);
  const tpl = list.data?.templates.find((t) => t.kind === kind) ?? list.data?.templates[0];

  return (
    <>
      <div className="toolbar">
        <SelectField label="Locale" value={current} onChange={setLocale} options={enabled.map((l) => ({ value: l, label: l }))} />
        {list.data && list.data.templates.length > 0 ? (
          <SelectField
            label="Template"
            value={tpl?.kind ?? kind}
            onChange={setKind}
            options={list.data.templates.map((t) => ({ value: t.kind, label: `${kindNames[t.kind]}${t.customized ? " (customized)" : ""}` }))}
          />
        ) : null}
      </div>
      <p className="hint">Add locales in Settings, under Languages. A template you never changed uses the built-in text of its locale.</p>
      {list.isPending ? <Loading what="templates" /> : null}
      {list.error ? <ErrorBanner problem={problemOf(list.error)} /> : null}
      {list.data && list.data.templates.length === 0 ? (
        <EmptyState title="No templates for this locale">
          <p>There are no built-in templates in {current}. Pick another locale, or add one with built-in templates in Settings.</p>
        </EmptyState>
      ) : null}
      {tpl ? <TemplateEditor key={`${tpl.kind}-${tpl.locale}`} app={app} template={tpl} /> : null}
    </>
  );
}

function TemplateEditor({ app, template }: { app: App; template: EmailTemplate }) {
  const [subject, setSubject] = useState(template.subject);
  const [html, setHtml] = useState(template.html);
  const [text, setText] = useState(template.text);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const qc = useQueryClient();
  const save = useMutation(AdminService.method.updateEmailTemplate);
  const readOnly = app.role === MemberRole.VIEWER;
  const draft = useDebounced(create(EmailTemplateSchema, { kind: template.kind, locale: template.locale, subject, html, text }), 300);
  const preview = useQuery(AdminService.method.previewEmailTemplate, { appId: app.id, template: draft }, { placeholderData: keepPreviousData });
  const isSms = template.kind === TemplateKind.SMS;

  const put = (t: { subject: string; html: string; text: string }, done: string) => {
    setProblem(null);
    setNote("");
    save.mutate(
      { appId: app.id, template: create(EmailTemplateSchema, { kind: template.kind, locale: template.locale, ...t }) },
      {
        onSuccess: async (res) => {
          if (res.template) {
            // A restored default comes back with the built-in text.
            setSubject(res.template.subject);
            setHtml(res.template.html);
            setText(res.template.text);
          }
          setNote(done);
          setErrors({});
          await qc.invalidateQueries();
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
    <div className="editor">
      <form
        className="card"
        aria-label={`Edit ${kindNames[template.kind]}`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          put({ subject, html, text }, "Saved. New mail uses this template.");
        }}
      >
        <h2>{kindNames[template.kind]}</h2>
        <p className="hint">
          Macros: <code>{"{{.AppName}}"}</code> <code>{"{{.Handle}}"}</code> <code>{"{{.Code}}"}</code> <code>{"{{.Link}}"}</code>
        </p>
        <ErrorBanner problem={problem} />
        {isSms ? null : (
          <TextField label="Subject" value={subject} onChange={setSubject} error={errors["template.subject"]} disabled={readOnly} />
        )}
        {isSms ? null : (
          <TextAreaField label="HTML" rows={10} mono value={html} onChange={setHtml} error={errors["template.html"]} disabled={readOnly} />
        )}
        <TextAreaField label={isSms ? "Message" : "Plain text"} rows={6} mono value={text} onChange={setText} error={errors["template.text"]} disabled={readOnly} />
        {readOnly ? null : (
          <div className="actions">
            <button type="submit" disabled={save.isPending}>
              Save template
            </button>
            {template.customized ? (
              <button type="button" className="secondary" onClick={() => put({ subject: "", html: "", text: "" }, "Restored the built-in template.")}>
                Restore the default
              </button>
            ) : null}
          </div>
        )}
        <Notice>{note}</Notice>
      </form>
      {readOnly || isSms || template.kind === TemplateKind.LINK_LANDING ? null : <TestSend app={app} template={template} />}
      <section className="card preview" aria-labelledby="preview-heading" aria-busy={preview.isFetching}>
        <h2 id="preview-heading">Preview</h2>
        {preview.error ? <ErrorBanner problem={problemOf(preview.error)} /> : null}
        {preview.data ? (
          <>
            {isSms ? null : (
              <p>
                <strong>Subject:</strong> <span data-testid="preview-subject">{preview.data.subject}</span>
              </p>
            )}
            {preview.data.html && !isSms ? (
              <HtmlPreview title="HTML preview" html={preview.data.html} />
            ) : null}
            <pre className="mono" data-testid="preview-text">
              {preview.data.text}
            </pre>
          </>
        ) : (
          <Loading what="the preview" />
        )}
      </section>
    </div>
  );
}

/** TestSend mails the saved template, rendered with sample values, to the developer or an address they give. */
function TestSend({ app, template }: { app: App; template: EmailTemplate }) {
  const [to, setTo] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const send = useMutation(AdminService.method.sendTestEmail);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setNote("");
    if (to.trim() !== "" && !/^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/.test(to.trim())) {
      setError("Enter an email address, or leave it empty to mail yourself.");
      return;
    }
    setError("");
    send.mutate(
      { appId: app.id, to: to.trim(), kind: template.kind, locale: template.locale },
      {
        onSuccess: () => setNote(`Sent a test of the saved template to ${to.trim() || "you"}.`),
        onError: (err) => {
          const p = problemOf(err);
          setProblem(p);
          setError(p.fields.to ?? "");
        },
      },
    );
  };
  return (
    <form className="card test-send" onSubmit={submit} noValidate aria-labelledby="test-send-heading">
      <h2 id="test-send-heading">Send a test</h2>
      <p className="hint">Mails the saved template with sample values (save your changes first).</p>
      <ErrorBanner problem={problem} />
      <TextField label="Send to" type="email" value={to} onChange={setTo} error={error} placeholder="Empty: your own address" />
      <button type="submit" className="secondary" disabled={send.isPending}>
        Send test mail
      </button>
      <Notice>{note}</Notice>
    </form>
  );
}
