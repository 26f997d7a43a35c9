// Small conversions between protobuf well-known types and what people read.
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";

/** timestampMs converts a Timestamp to ms since the epoch (undefined when unset). */
export function timestampMs(t: Timestamp | undefined): number | undefined {
  if (!t) return undefined;
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

/** formatTime shows a Timestamp in the reader's locale, or "—". */
export function formatTime(t: Timestamp | undefined): string {
  const ms = timestampMs(t);
  return ms === undefined ? "—" : new Date(ms).toLocaleString();
}

const units: [string, number][] = [
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

/** formatDuration writes a Duration as e.g. "1h", "30d", "1h30m", or "" when unset or zero. */
export function formatDuration(d: Duration | undefined): string {
  if (!d) return "";
  let s = Number(d.seconds);
  if (s <= 0) return "";
  let out = "";
  for (const [u, n] of units) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${u}`;
      s %= n;
    }
  }
  return out;
}

/** parseDuration reads "90m", "1h30m", "7d" into seconds; "" is 0; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === "") return 0;
  if (!/^(\d+[dhms])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+)([dhms])/g)) {
    const n = units.find(([u]) => u === m[2]);
    if (!n) return undefined;
    total += Number(m[1]) * n[1];
  }
  return total;
}

/** splitList turns text with one item per line (or comma-separated) into trimmed, non-empty items. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
