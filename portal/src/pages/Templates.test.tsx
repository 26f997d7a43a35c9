import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService, type SendTestEmailRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, EmailTemplateSchema, MemberRole, TemplateKind } from "@gen/cosync/admin/v1/types_pb";
import { renderWith, serverError } from "../test/util";
import { TemplatesPage } from "./Templates";
import { renderPreview } from "../ui/HtmlPreview";

const app = create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.ADMIN, settings: create(AppSettingsSchema, { locales: ["en"] }) });

describe("TemplatesPage", () => {
  it("previews what the developer types, rendered by the server", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listLocales: () => ({ available: ["en", "de"], enabled: ["en"] }),
        listEmailTemplates: (req) => ({
          templates: [
            create(EmailTemplateSchema, { kind: TemplateKind.SIGNUP_CODE, locale: req.locale, subject: "Your {{.AppName}} code", text: "{{.Code}}" }),
          ],
        }),
        previewEmailTemplate: (req) => ({
          subject: (req.template?.subject ?? "").replace("{{.AppName}}", "Shop"),
          text: (req.template?.text ?? "").replace("{{.Code}}", "123456"),
        }),
      }),
    );
    renderWith(<TemplatesPage app={app} />, transport);
    await waitFor(() => expect(screen.getByTestId("preview-subject")).toHaveTextContent("Your Shop code"));
    expect(screen.getByTestId("preview-text")).toHaveTextContent("123456");
    const subject = screen.getByLabelText("Subject");
    await userEvent.clear(subject);
    await userEvent.type(subject, "Welcome to {{{{.AppName}}");
    await waitFor(() => expect(screen.getByTestId("preview-subject")).toHaveTextContent("Welcome to Shop"));
  });
});

describe("TemplatesPage test send", () => {
  it("mails the shown template kind and locale to the developer, or names the problem", async () => {
    const sent: SendTestEmailRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listLocales: () => ({ available: ["en"], enabled: ["en"] }),
        listEmailTemplates: (req) => ({
          templates: [create(EmailTemplateSchema, { kind: TemplateKind.PASSWORD_RESET, locale: req.locale, subject: "Reset", text: "{{.Code}}" })],
        }),
        previewEmailTemplate: () => ({ subject: "Reset", text: "123456" }),
        sendTestEmail: (req) => {
          if (req.to === "down@example.com") throw serverError(Code.Unavailable, "MAIL_UNAVAILABLE");
          sent.push(req);
          return {};
        },
      }),
    );
    renderWith(<TemplatesPage app={app} />, transport);
    await userEvent.click(await screen.findByRole("button", { name: "Send test mail" }));
    expect(await screen.findByText("Sent a test of the saved template to you.")).toBeInTheDocument();
    expect(sent[0]).toMatchObject({ appId: "app-1", to: "", kind: TemplateKind.PASSWORD_RESET, locale: "en" });

    await userEvent.type(screen.getByLabelText("Send to"), "not-mail");
    await userEvent.click(screen.getByRole("button", { name: "Send test mail" }));
    expect(screen.getByLabelText("Send to")).toHaveAccessibleDescription("Enter an email address, or leave it empty to mail yourself.");
    await userEvent.clear(screen.getByLabelText("Send to"));
    await userEvent.type(screen.getByLabelText("Send to"), "down@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send test mail" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Mail cannot be sent right now.");
    expect(sent).toHaveLength(1);
  });

  it("offers no test send to a viewer", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listLocales: () => ({ available: ["en"], enabled: ["en"] }),
        listEmailTemplates: () => ({ templates: [create(EmailTemplateSchema, { kind: TemplateKind.WELCOME, locale: "en", subject: "Hi" })] }),
        previewEmailTemplate: () => ({ subject: "Hi" }),
      }),
    );
    renderWith(<TemplatesPage app={create(AppSchema, { ...app, role: MemberRole.VIEWER })} />, transport);
    await waitFor(() => expect(screen.getByTestId("preview-subject")).toHaveTextContent("Hi"));
    expect(screen.queryByRole("button", { name: "Send test mail" })).toBeNull();
  });
});

describe("renderPreview", () => {
  it("keeps inline styles through the CSSOM and drops scripts and handlers", () => {
    const doc = document.implementation.createHTMLDocument("preview");
    renderPreview(doc, `<html><body><p style="color: red" onclick="alert(1)">Hi</p><script>window.bad = 1</script></body></html>`);
    const p = doc.querySelector("p");
    expect(p?.style.color).toBe("red");
    expect(p?.hasAttribute("onclick")).toBe(false);
    expect(doc.querySelector("script")).toBeNull();
    expect(doc.body.textContent).toBe("Hi");
  });
});
