import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient } from "@tanstack/react-query";
import { Code, ConnectError } from "@connectrpc/connect";
import { App } from "./App";
import { SessionStore } from "./api/session";
import { createPortalTransport } from "./api/transport";
import { applyTheme, loadTheme } from "./ui/theme";
import "./styles.css";

applyTheme(loadTheme());

// Made once, outside React: one session, one transport, one query cache.
const session = new SessionStore();
const transport = createPortalTransport(session);
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A refused or malformed request fails the same way twice; only retry what may pass.
      retry: (n, err) => n < 2 && [Code.Unavailable, Code.DeadlineExceeded, Code.Unknown].includes(ConnectError.from(err).code),
    },
  },
});

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App transport={transport} queryClient={queryClient} session={session} />
    </StrictMode>,
  );
}
