// A button that asks once more before doing something that cannot be undone.
import { useState, type ReactNode } from "react";

/**
 * ConfirmButton shows label; a click swaps it for a short question with
 * "confirm" and Cancel (focused, so the keyboard lands on the safe choice),
 * so a stray click or Enter never deletes anything.
 */
export function ConfirmButton(props: {
  label: ReactNode;
  question: string;
  confirm: string;
  onConfirm: () => void;
  busy?: boolean;
  className?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={props.className ?? "danger small"} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>{" "}
      <button
        type="button"
        className="danger small"
        disabled={props.busy}
        onClick={() => {
          props.onConfirm();
          setAsking(false);
        }}
      >
        {props.confirm}
      </button>{" "}
      {/* The asking button is gone, so focus moves to the safe choice. */}
      <button type="button" className="secondary small" autoFocus onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Pager is the previous/next control of a cursor-paged list. */
export function Pager(props: { page: number; hasNext: boolean; onPrev: () => void; onNext: () => void; label: string }) {
  if (props.page === 0 && !props.hasNext) return null;
  return (
    <nav className="pager" aria-label={`${props.label} pages`}>
      <button type="button" className="secondary small" disabled={props.page === 0} onClick={props.onPrev}>
        Previous page
      </button>
      <span>Page {props.page + 1}</span>
      <button type="button" className="secondary small" disabled={!props.hasNext} onClick={props.onNext}>
        Next page
      </button>
    </nav>
  );
}

/** usePager keeps the cursor token of every page visited, so "Previous" goes back without the server keeping state. */
export function usePager() {
  const [tokens, setTokens] = useState<string[]>([""]);
  return {
    token: tokens[tokens.length - 1],
    page: tokens.length - 1,
    next: (token: string) => setTokens((t) => [...t, token]),
    prev: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    reset: () => setTokens([""]),
    /** filter wraps a filter's setter: any filter change starts again at the first page. */
    filter:
      <T,>(set: (v: T) => void) =>
      (v: T) => {
        set(v);
        setTokens([""]);
      },
  };
}
