// Editing an app's rate-limit overrides: a table of rule name, limit and
// window, one row per override, beside the limits in force (GetApp's
// effective_rate_limits) so a developer sees what a row changes.
import { useState } from "react";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { RateLimitSchema, type RateLimit } from "@gen/cosync/admin/v1/types_pb";
import { formatDuration, parseDuration } from "../api/format";
import { appLimitNames } from "./validate";

export function RateLimitsEditor(props: {
  limits: RateLimit[];
  effective: RateLimit[];
  onChange: (l: RateLimit[]) => void;
  /** Violations keyed by "[i].name" etc. (the part after settings.rate_limits). */
  errors: Record<string, string>;
  disabled?: boolean;
}) {
  const { limits, onChange, errors } = props;
  // Windows as typed, so "1h3" can be on its way to "1h30m".
  const [windows, setWindows] = useState<Record<number, string>>({});
  const set = (i: number, patch: Partial<RateLimit>) => onChange(limits.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const rowError = (i: number) => [errors[`[${i}].name`], errors[`[${i}].limit`], errors[`[${i}].window`]].filter(Boolean).join("; ");
  const unused = appLimitNames.filter((n) => !limits.some((l) => l.name === n));
  return (
    <fieldset className="rate-limits">
      <legend>Overrides of the server's rate limits</legend>
      <table>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Limit</th>
            <th scope="col">Window</th>
            <th scope="col">In force</th>
            <th scope="col" aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {limits.map((l, i) => {
            const eff = props.effective.find((e) => e.name === l.name);
            const error = rowError(i);
            return (
              <tr key={i} aria-label={`Rate limit ${i + 1}`}>
                <td>
                  <select aria-label={`Rule of rate limit ${i + 1}`} value={l.name} onChange={(e) => set(i, { name: e.target.value })} disabled={props.disabled}>
                    {appLimitNames.includes(l.name) ? null : <option value={l.name}>{l.name || "(choose)"}</option>}
                    {appLimitNames.map((n) => (
                      <option key={n} value={n}>
                        {n}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input
                    aria-label={`Limit of rate limit ${i + 1}`}
                    type="number"
                    min={1}
                    value={String(l.limit)}
                    onChange={(e) => set(i, { limit: Number.parseInt(e.target.value || "0", 10) || 0 })}
                    disabled={props.disabled}
                  />
                </td>
                <td>
                  <input
                    aria-label={`Window of rate limit ${i + 1}`}
                    value={windows[i] ?? formatDuration(l.window)}
                    onChange={(e) => {
                      setWindows((w) => ({ ...w, [i]: e.target.value }));
                      const secs = parseDuration(e.target.value);
                      set(i, { window: secs === undefined ? undefined : create(DurationSchema, { seconds: BigInt(secs) }) });
                    }}
                    disabled={props.disabled}
                  />
                </td>
                <td>{eff ? `${eff.limit} / ${formatDuration(eff.window)}` : "—"}</td>
                <td>
                  <button
                    type="button"
                    className="secondary small"
                    onClick={() => {
                      setWindows({});
                      onChange(limits.filter((_, j) => j !== i));
                    }}
                    disabled={props.disabled}
                  >
                    Remove rate limit {i + 1}
                  </button>
                </td>
                {error ? (
                  <td role="alert" className="error">
                    {error}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {limits.length === 0 ? <p className="hint">No overrides: every rule keeps the server's default (listed below).</p> : null}
      <button
        type="button"
        className="secondary"
        disabled={props.disabled || unused.length === 0}
        onClick={() => {
          const name = unused[0];
          const eff = props.effective.find((e) => e.name === name);
          onChange([...limits, create(RateLimitSchema, { name, limit: eff?.limit ?? 1, window: eff?.window ?? create(DurationSchema, { seconds: 3600n }) })]);
        }}
      >
        Add an override
      </button>
      <details>
        <summary>Limits in force</summary>
        <ul>
          {props.effective.map((e) => (
            <li key={e.name}>
              {e.name}: {e.limit} / {formatDuration(e.window)}
            </li>
          ))}
        </ul>
      </details>
    </fieldset>
  );
}
