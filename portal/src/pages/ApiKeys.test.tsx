import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { AdminService, type CreateApiKeyRequest } from "@gen/cosync/admin/v1/admin_pb";
import { ApiKeySchema, AppSchema, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { renderWith } from "../test/util";
import { ApiKeysPage } from "./ApiKeys";

const app = (role: MemberRole) => create(AppSchema, { id: "app-1", name: "Shop", role });

describe("ApiKeysPage", () => {
  it("shows the secret once, with a copy button, and lists the key by its prefix", async () => {
    const created: CreateApiKeyRequest[] = [];
    let keys = [create(ApiKeySchema, { id: "k0", name: "old script", prefix: "csk_0ld", role: MemberRole.VIEWER })];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listApiKeys: () => ({ apiKeys: keys }),
        createApiKey: (req) => {
          created.push(req);
          const k = create(ApiKeySchema, { id: "k1", name: req.name, prefix: "csk_n3w", role: req.role, expiresAt: req.expiresAt });
          keys = [...keys, k];
          return { apiKey: k, secret: "csk_n3w.the-whole-secret" };
        },
        revokeApiKey: (req) => {
          keys = keys.filter((k) => k.id !== req.apiKeyId);
          return {};
        },
      }),
    );
    renderWith(<ApiKeysPage app={app(MemberRole.OWNER)} />, transport);
    expect(await screen.findByRole("cell", { name: "csk_0ld…" })).toBeInTheDocument();
    expect(screen.getAllByRole("cell", { name: "never" })).toHaveLength(2);

    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByLabelText(/^Name/)).toHaveAccessibleDescription(/Name the key after what uses it/);
    await userEvent.type(screen.getByLabelText("Expires after"), "2001-01-01");
    await userEvent.type(screen.getByLabelText(/^Name/), "billing backend");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByLabelText("Expires after")).toHaveAccessibleDescription("Pick a day from today on, or leave it empty.");
    expect(created).toHaveLength(0);

    await userEvent.clear(screen.getByLabelText("Expires after"));
    await userEvent.selectOptions(screen.getByLabelText("Role"), "Admin");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByTestId("api-key-secret")).toHaveTextContent("csk_n3w.the-whole-secret");
    expect(screen.getByRole("button", { name: "Copy API key" })).toBeInTheDocument();
    expect(created[0]).toMatchObject({ name: "billing backend", role: MemberRole.ADMIN });
    expect(created[0].expiresAt).toBeUndefined();
    expect(await screen.findByRole("cell", { name: "csk_n3w…" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    expect(screen.queryByText("csk_n3w.the-whole-secret")).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Revoke old script" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, revoke" }));
    expect(await screen.findByText("Revoked old script.")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("cell", { name: "csk_0ld…" })).toBeNull());
  });

  it("tells an empty list what to do, and an admin that only owners make keys", async () => {
    const transport = createRouterTransport(({ service }) => service(AdminService, { listApiKeys: () => ({ apiKeys: [] }) }));
    renderWith(<ApiKeysPage app={app(MemberRole.ADMIN)} />, transport);
    expect(await screen.findByRole("heading", { name: "No API keys" })).toBeInTheDocument();
    expect(screen.getByText("Only owners create and revoke API keys.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create key" })).toBeNull();
  });
});

