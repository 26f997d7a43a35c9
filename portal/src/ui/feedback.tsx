// Shared pieces for saying what is going on: errors, empty states, loading,
// and success notes.
import { useState, type ReactNode } from "react";
import type { Problem } from "../api/errors";

/** ErrorBanner announces a problem (role=alert) with the server's reasons in plain words. */
export function ErrorBanner({ problem }: { problem: Problem | null | undefined }) {
  if (!problem) return null;
  return (
    <div className="banner error" role="alert">
      {problem.message}
    </div>
  );
}

/** Notice is a polite, non-error status line. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="banner ok" role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** EmptyState says there is nothing yet and what to do next. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="empty">
      <h3>{title}</h3>
      <div>{children}</div>
    </section>
  );
}

/** copyText writes to the clipboard, falling back to a hidden textarea where the API is missing. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  document.execCommand("copy");
  ta.remove();
}

/** CopyButton copies text and says so; label names what is copied for screen readers. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <>
      <button
        type="button"
        className="secondary small"
        onClick={() => {
          copyText(text).then(
            () => setState("copied"),
            () => setState("failed"),
          );
        }}
      >
        {state === "copied" ? "Copied" : "Copy"}
        <span className="offscreen"> {label}</span>
      </button>
      <span className={state === "failed" ? "field-error" : "offscreen"} role="status">
        {state === "copied" ? `${label} copied` : state === "failed" ? "Copying failed: select the text and copy it by hand." : ""}
      </span>
    </>
  );
}
