import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { AdminService, type ListAuditEventsRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, AuditEventSchema, MemberRole, SnippetSchema } from "@gen/cosync/admin/v1/types_pb";
import { renderWith } from "../test/util";
import { AuditPage, isUserSubject } from "./Audit";
import { IntegrationsPage } from "./Integrations";

const app = create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.VIEWER });

describe("AuditPage", () => {
  it("lists events with who and where, and sends every filter", async () => {
    const seen: ListAuditEventsRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listAuditEvents: (req) => {
          seen.push(req);
          if (req.outcome === "failure") return { events: [] };
          return {
            events: [
              create(AuditEventSchema, { id: "e1", action: "user.suspend", outcome: "success", actorId: "dev-1", subjectId: "u-ann", ip: "203.0.113.7" }),
            ],
            nextPageToken: "n2",
          };
        },
      }),
    );
    renderWith(<AuditPage app={app} />, transport);
    expect(await screen.findByRole("cell", { name: "user.suspend" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "u-ann" })).toHaveAttribute("href", "#/apps/app-1/users/u-ann");
    expect(screen.getByRole("cell", { name: "203.0.113.7" })).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Action"), "user.suspend");
    await userEvent.type(screen.getByLabelText(/Actor id/), "dev-1");
    await userEvent.type(screen.getByLabelText("IP address"), "203.0.113.7");
    await userEvent.selectOptions(screen.getByLabelText("Outcome"), "Failed");
    await waitFor(() =>
      expect(seen.at(-1)).toMatchObject({ action: "user.suspend", actorId: "dev-1", ip: "203.0.113.7", outcome: "failure", pageToken: "" }),
    );
    await waitFor(() => expect(screen.getByRole("heading", { name: "No event matches" })).toBeInTheDocument());
  });

  it("links only subjects that are users", () => {
    expect(isUserSubject("user.suspend", "u-ann")).toBe(true);
    expect(isUserSubject("session.refresh", "u-ann")).toBe(true);
    expect(isUserSubject("user.signup.start", "ann@example.com")).toBe(false);
    expect(isUserSubject("key.rotate", "kid-1")).toBe(false);
    expect(isUserSubject("app.email.test", "signup_code:en")).toBe(false);
  });

  it("says what gets recorded when there is nothing yet", async () => {
    const transport = createRouterTransport(({ service }) => service(AdminService, { listAuditEvents: () => ({ events: [] }) }));
    renderWith(<AuditPage app={app} />, transport);
    expect(await screen.findByRole("heading", { name: "No events yet" })).toBeInTheDocument();
  });
});

describe("IntegrationsPage", () => {
  it("shows each snippet the server wrote with a copy button", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        getIntegrationSnippets: () => ({
          jwksUrl: "https://auth.example.com/apps/app-1/.well-known/jwks.json",
          issuer: "https://auth.example.com/apps/app-1",
          snippets: [
            create(SnippetSchema, { consumer: "hasura", format: "json", title: "Hasura", instructions: "Set HASURA_GRAPHQL_JWT_SECRET to:", content: '{"jwk_url":"x"}' }),
          ],
        }),
      }),
    );
    renderWith(<IntegrationsPage app={app} />, transport);
    expect(await screen.findByRole("heading", { name: "Hasura" })).toBeInTheDocument();
    expect(screen.getByText('{"jwk_url":"x"}')).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy Hasura snippet" })).toBeInTheDocument();
    expect(screen.getByText("https://auth.example.com/apps/app-1/.well-known/jwks.json")).toBeInTheDocument();
  });
});
