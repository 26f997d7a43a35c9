// A small hash router: the portal's pages live after "#", so every server
// path (the API, /apps/{id}/.well-known/…) stays the server's, and the Go
// handler serves one index.html.
import { useSyncExternalStore } from "react";

/** AppTab is a page of one application. */
export type AppTab =
  | "settings"
  | "keys"
  | "integrations"
  | "users"
  | "signups"
  | "invitations"
  | "templates"
  | "analytics"
  | "audit"
  | "team"
  | "api-keys"
  | "outbox";

export const appTabs: { tab: AppTab; label: string }[] = [
  { tab: "settings", label: "Settings" },
  { tab: "keys", label: "Keys" },
  { tab: "integrations", label: "Integrations" },
  { tab: "users", label: "Users" },
  { tab: "signups", label: "Pending sign-ups" },
  { tab: "invitations", label: "Invitations" },
  { tab: "templates", label: "Email templates" },
  { tab: "analytics", label: "Analytics" },
  { tab: "audit", label: "Audit log" },
  { tab: "team", label: "Team" },
  { tab: "api-keys", label: "API keys" },
  { tab: "outbox", label: "Outbox" },
];

export type Route =
  | { page: "apps" }
  | { page: "new-app" }
  | { page: "app"; appId: string; tab: AppTab; userId?: string }
  | { page: "operator" }
  | { page: "account" }
  | { page: "signup" }
  | { page: "forgot" }
  | { page: "reset"; handle: string };

/** parseRoute reads a location hash such as "#/apps/abc/keys". */
export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "forgot") return { page: "forgot" };
  if (parts[0] === "signup") return { page: "signup" };
  if (parts[0] === "operator") return { page: "operator" };
  if (parts[0] === "account") return { page: "account" };
  if (parts[0] === "reset") return { page: "reset", handle: new URLSearchParams(query).get("handle") ?? "" };
  if (parts[0] === "apps" && parts[1] === "new") return { page: "new-app" };
  if (parts[0] === "apps" && parts[1]) {
    const tab = appTabs.find((t) => t.tab === parts[2])?.tab ?? "settings";
    if (tab === "users" && parts[3]) return { page: "app", appId: parts[1], tab, userId: parts[3] };
    return { page: "app", appId: parts[1], tab };
  }
  return { page: "apps" };
}

/** href builds the link of a route. */
export function href(r: Route): string {
  switch (r.page) {
    case "apps":
      return "#/";
    case "new-app":
      return "#/apps/new";
    case "app":
      return `#/apps/${encodeURIComponent(r.appId)}/${r.tab}${r.userId ? `/${encodeURIComponent(r.userId)}` : ""}`;
    case "operator":
      return "#/operator";
    case "account":
      return "#/account";
    case "signup":
      return "#/signup";
    case "forgot":
      return "#/forgot";
    case "reset":
      return `#/reset?handle=${encodeURIComponent(r.handle)}`;
  }
}

export function navigate(r: Route): void {
  window.location.hash = href(r);
}

function subscribe(fn: () => void): () => void {
  window.addEventListener("hashchange", fn);
  return () => window.removeEventListener("hashchange", fn);
}

/** useRoute is the current route; it changes with the hash. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
