// The signed-in developer's console session, kept in memory only (never in
// localStorage, where any injected script could read it): a reload signs out.
import type { Session as SessionMessage, User } from "@gen/cosync/auth/v1/types_pb";
import { timestampMs } from "./format";

/** SignedIn is what the portal keeps of a console session. */
export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, in ms since the epoch. */
  expiresAt: number;
  user: User | undefined;
}

type Listener = () => void;

/**
 * SessionStore holds the current session and tells subscribers when it
 * changes. `notice` is a sentence for the sign-in page after a session ended
 * on its own (expired, revoked). One store per page, made outside React.
 */
export class SessionStore {
  private state: SignedIn | null = null;
  private listeners = new Set<Listener>();
  notice = "";

  get current(): SignedIn | null {
    return this.state;
  }

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): SignedIn | null => this.state;

  /** signIn keeps a session the server returned (Login, CompleteLogin, RefreshSession). */
  signIn(s: SessionMessage): void {
    this.notice = "";
    this.state = {
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      expiresAt: timestampMs(s.expiresAt) ?? Date.now() + 5 * 60_000,
      user: s.user ?? this.state?.user,
    };
    this.emit();
  }

  /** end forgets the session; notice, when given, is shown on the sign-in page. */
  end(notice = ""): void {
    if (!this.state && this.notice === notice) return;
    this.state = null;
    this.notice = notice;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
