import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { Code, createRouterTransport } from "@connectrpc/connect";
import { AdminService } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { MetadataFieldType } from "@gen/cosync/auth/v1/types_pb";
import type { CreateAppRequest, SetGlobalSwitchesRequest } from "@gen/cosync/admin/v1/admin_pb";
import { renderWith, serverError } from "../test/util";
import { AppsList, CreateApp, GlobalSwitches } from "./Apps";

describe("GlobalSwitches", () => {
  it("turns one switch in every app at once and says how many changed", async () => {
    const seen: SetGlobalSwitchesRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        setGlobalSwitches: (req) => {
          seen.push(req);
          return { apps: [create(AppSchema, { id: "a" }), create(AppSchema, { id: "b" })] };
        },
      }),
    );
    renderWith(<GlobalSwitches />, transport);
    await userEvent.click(screen.getByRole("button", { name: "Turn invitations off" }));
    expect(await screen.findByText("Invitations turned off in 2 applications.")).toBeInTheDocument();
    expect(seen[0].invitesEnabled).toBe(false);
    expect(seen[0].signupEnabled).toBeUndefined();
  });
});

describe("AppsList", () => {
  it("says what to do when there is no application", async () => {
    const transport = createRouterTransport(({ service }) => service(AdminService, { listApps: () => ({ apps: [] }) }));
    renderWith(<AppsList />, transport);
    expect(await screen.findByRole("heading", { name: "No applications yet" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Create your first application" })).toHaveAttribute("href", "#/apps/new");
  });

  it("lists the applications with the caller's role", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, { listApps: () => ({ apps: [create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.VIEWER })] }) }),
    );
    renderWith(<AppsList />, transport);
    expect(await screen.findByRole("link", { name: "Shop" })).toHaveAttribute("href", "#/apps/app-1/settings");
    expect(screen.getByRole("cell", { name: "Viewer" })).toBeInTheDocument();
  });

  it("shows why the list could not be read", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        listApps: () => {
          throw serverError(Code.Unavailable, "UNAVAILABLE");
        },
      }),
    );
    renderWith(<AppsList />, transport);
    expect(await screen.findByRole("alert")).toHaveTextContent("The server is unavailable right now.");
  });
});

describe("CreateApp", () => {
  it("checks the name and metadata paths as the server does", async () => {
    const createApp = vi.fn();
    const transport = createRouterTransport(({ service }) => service(AdminService, { createApp }));
    renderWith(<CreateApp />, transport);
    await userEvent.click(screen.getByRole("button", { name: "Add a field" }));
    await userEvent.type(screen.getByLabelText("Path in the token"), "aud.x");
    await userEvent.click(screen.getByRole("button", { name: "Create application" }));
    expect(screen.getByRole("textbox", { name: "Name" })).toHaveAccessibleDescription(/Give the application a name\./);
    expect(screen.getByLabelText("Path in the token")).toHaveAccessibleDescription(/would overwrite the reserved claim "aud"/);
    expect(createApp).not.toHaveBeenCalled();
    // Fixing the field clears its reason without another try.
    await userEvent.clear(screen.getByLabelText("Path in the token"));
    await userEvent.type(screen.getByLabelText("Path in the token"), "user_data.x");
    expect(screen.getByLabelText("Path in the token")).toHaveAccessibleDescription("Dotted names, e.g. user_data.plan");
  });

  it("sends the audience and metadata fields, and shows the server's field reasons", async () => {
    const seen: CreateAppRequest[] = [];
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        createApp: (req) => {
          seen.push(req);
          throw serverError(Code.InvalidArgument, "INVALID_ARGUMENT", {
            "settings.signup_metadata_fields[0].path": "server says no",
          });
        },
      }),
    );
    renderWith(<CreateApp />, transport);
    await userEvent.type(screen.getByRole("textbox", { name: "Name" }), "Shop");
    await userEvent.type(screen.getByLabelText("Audience"), "atlas-1\natlas-2");
    await userEvent.click(screen.getByRole("button", { name: "Add a field" }));
    await userEvent.type(screen.getByLabelText("Path in the token"), "user_data.plan");
    await userEvent.click(screen.getByLabelText("Required"));
    await userEvent.click(screen.getByRole("button", { name: "Create application" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Some fields need fixing");
    expect(screen.getByLabelText("Path in the token")).toHaveAccessibleDescription(/server says no/);
    await waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0].name).toBe("Shop");
    expect(seen[0].settings?.audience).toEqual(["atlas-1", "atlas-2"]);
    expect(seen[0].settings?.signupMetadataFields).toMatchObject([{ path: "user_data.plan", required: true, type: MetadataFieldType.STRING }]);
  });
});
