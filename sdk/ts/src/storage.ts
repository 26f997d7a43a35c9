// Where an AuthClient keeps its session between page loads or app starts.
import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { SessionSchema, type Session } from "./gen/cosync/auth/v1/types_pb.js";

/**
 * SessionStorage is the key-value store an AuthClient keeps its session in.
 * Its shape is the Web Storage API's, so `localStorage` and `sessionStorage`
 * fit as they are, and so does React Native's AsyncStorage (whose methods
 * return promises). Anything else — an encrypted keychain, a cookie jar — fits
 * by implementing these three methods.
 */
export interface SessionStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** memoryStorage keeps sessions in this process only: the AuthClient default. */
export function memoryStorage(): SessionStorage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

/** sessionKey is the storage key of an application's session. */
export function sessionKey(appId: string): string {
  return `cosync-auth:session:${appId}`;
}

export async function loadSession(s: SessionStorage, key: string): Promise<Session | undefined> {
  const raw = await s.getItem(key);
  if (!raw) return undefined;
  try {
    return fromJsonString(SessionSchema, raw, { ignoreUnknownFields: true });
  } catch {
    // A value this SDK cannot read is no session; the next sign-in replaces it.
    return undefined;
  }
}

export async function saveSession(s: SessionStorage, key: string, session: Session | undefined): Promise<void> {
  if (session === undefined) await s.removeItem(key);
  else await s.setItem(key, toJsonString(SessionSchema, session));
}
