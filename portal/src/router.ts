// A small hash router: the portal's pages live after "#", so every server
// path (the API, /apps/{id}/.well-known/…) stays the server's, and the Go
// handler serves one index.html.
import { useSyncExternalStore } from "react";

/** AppTab is a page of one application. */
export type AppTab = "settings" | "keys" | "templates" | "invitations" | "outbox";

export const appTabs: { tab: AppTab; label: string }[] = [
  { tab: "settings", label: "Settings" },
  { tab: "keys", label: "Keys" },
  { tab: "templates", label: "Email templates" },
  { tab: "invitations", label: "Invitations" },
  { tab: "outbox", label: "Outbox" },
];

export type Route =
  | { page: "apps" }
  | { page: "new-app" }
  | { page: "app"; appId: string; tab: AppTab }
  | { page: "forgot" }
  | { page: "reset"; handle: string };

/** parseRoute reads a location hash such as "#/apps/abc/keys". */
export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "forgot") return { page: "forgot" };
  if (parts[0] === "reset") return { page: "reset", handle: new URLSearchParams(query).get("handle") ?? "" };
  if (parts[0] === "apps" && parts[1] === "new") return { page: "new-app" };
  if (parts[0] === "apps" && parts[1]) {
    const tab = appTabs.find((t) => t.tab === parts[2])?.tab ?? "settings";
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
      return `#/apps/${encodeURIComponent(r.appId)}/${r.tab}`;
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
