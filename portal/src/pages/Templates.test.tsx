import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AppSettingsSchema, EmailTemplateSchema, MemberRole, TemplateKind } from "@gen/cosync/admin/v1/types_pb";
import { renderWith } from "../test/util";
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
