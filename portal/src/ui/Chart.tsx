// A per-day line chart in plain SVG (no chart library: the bundle budget),
// with its numbers also available as a table for screen readers and copying.

export interface Series {
  name: string;
  values: number[];
}

const W = 640;
const H = 200;
const pad = { l: 44, r: 12, t: 12, b: 28 };

/** niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so the axis reads well. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (max <= m * p) return m * p;
  return 10 * p;
}

/** points places values on the chart's inner box: x across the days, y up from the bottom. */
export function points(values: number[], max: number): string {
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const step = values.length > 1 ? iw / (values.length - 1) : 0;
  return values.map((v, i) => `${(pad.l + i * step).toFixed(1)},${(pad.t + ih - (v / max) * ih).toFixed(1)}`).join(" ");
}

export function LineChart({ title, days, series, percent }: { title: string; days: string[]; series: Series[]; percent?: boolean }) {
  const id = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  const max = percent ? 1 : niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const fmt = (v: number) => (percent ? `${Math.round(v * 100)}%` : v.toLocaleString());
  const total = (s: Series) => (percent ? "" : ` (${s.values.reduce((a, b) => a + b, 0).toLocaleString()} in all)`);
  const ih = H - pad.t - pad.b;
  return (
    <figure className="card chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>
        <h3>{title}</h3>
        <ul className="legend">
          {series.map((s, i) => (
            <li key={s.name}>
              <span className={`swatch series-${i}`} aria-hidden="true" /> {s.name}
              {total(s)}
            </li>
          ))}
        </ul>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title`} preserveAspectRatio="none">
        {/* Counts get no half-way line when it would fall between whole numbers. */}
        {[0, 0.5, 1].filter((f) => percent || Number.isInteger(f * max)).map((f) => (
          <g key={f}>
            <line className="grid" x1={pad.l} x2={W - pad.r} y1={pad.t + ih - f * ih} y2={pad.t + ih - f * ih} />
            <text className="axis" x={pad.l - 6} y={pad.t + ih - f * ih + 4} textAnchor="end">
              {fmt(f * max)}
            </text>
          </g>
        ))}
        {days.length ? (
          <>
            <text className="axis" x={pad.l} y={H - 8} textAnchor="start">
              {days[0]}
            </text>
            <text className="axis" x={W - pad.r} y={H - 8} textAnchor="end">
              {days[days.length - 1]}
            </text>
          </>
        ) : null}
        {series.map((s, i) =>
          s.values.length === 1 ? (
            <circle key={s.name} className={`series-${i}`} cx={pad.l} cy={points(s.values, max).split(",")[1]} r={3} />
          ) : (
            <polyline key={s.name} className={`line series-${i}`} points={points(s.values, max)} />
          ),
        )}
      </svg>
      <details>
        <summary>
          Numbers<span className="offscreen"> of {title}</span>
        </summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {series.map((s) => (
                <th scope="col" key={s.name}>
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {days.map((d, i) => (
              <tr key={d}>
                <th scope="row">{d}</th>
                {series.map((s) => (
                  <td key={s.name}>{fmt(s.values[i] ?? 0)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
