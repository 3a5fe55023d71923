/**
 * Server-rendered SVG line plots (no client JS, no inline styles: colours come from classes in app.css).
 * Gaps in the data (null, or more than `gapMs` between points) break the line instead of drawing across them.
 */
export interface PlotPoint {
  t: number;
  v: number | null;
}

export interface PlotProps {
  id: string;
  title: string;
  unit: string;
  points: PlotPoint[];
  from: number;
  to: number;
  /** Fixed y range; computed from the data (with padding) when absent. */
  yMin?: number;
  yMax?: number;
  cls: string;
  gapMs?: number;
}

const W = 600;
const H = 130;
const PAD_L = 44;
const PAD_R = 8;
const PAD_T = 10;
const PAD_B = 22;

function hhmm(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A gap is a pause of more than 3 typical sample spacings (and at least 15 min): the modem was away. */
export function defaultGapMs(points: PlotPoint[]): number {
  const d: number[] = [];
  for (let i = 1; i < points.length; i++) d.push(points[i]!.t - points[i - 1]!.t);
  d.sort((a, b) => a - b);
  const median = d.length ? d[Math.floor(d.length / 2)]! : 0;
  return Math.max(15 * 60_000, 3 * median);
}

/** The polyline segments in SVG coordinates, split at gaps. Exported for tests. */
export function plotSegments(p: Pick<PlotProps, "points" | "from" | "to" | "gapMs">, yMin: number, yMax: number): string[] {
  const gapMs = p.gapMs ?? defaultGapMs(p.points);
  const xs = (t: number) => PAD_L + ((t - p.from) / Math.max(1, p.to - p.from)) * (W - PAD_L - PAD_R);
  const ys = (v: number) => PAD_T + (1 - (v - yMin) / Math.max(1e-9, yMax - yMin)) * (H - PAD_T - PAD_B);
  const segments: string[] = [];
  let cur: string[] = [];
  let lastT = -Infinity;
  for (const pt of p.points) {
    const gap = pt.t - lastT > gapMs;
    if (pt.v === null || !Number.isFinite(pt.v) || gap) {
      if (cur.length > 1) segments.push(cur.join(" "));
      cur = [];
    }
    if (pt.v !== null && Number.isFinite(pt.v)) cur.push(`${xs(pt.t).toFixed(1)},${ys(pt.v).toFixed(1)}`);
    lastT = pt.t;
  }
  if (cur.length > 1) segments.push(cur.join(" "));
  return segments;
}

export function Plot(p: PlotProps): JSX.Element {
  const values = p.points.map((x) => x.v).filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = p.yMin ?? (values.length ? Math.min(...values) : 0);
  let hi = p.yMax ?? (values.length ? Math.max(...values) : 1);
  if (hi - lo < 1) (hi += 1), (lo -= 1);
  const pad = p.yMin === undefined ? (hi - lo) * 0.1 : 0;
  lo -= pad;
  hi += pad;
  const segments = plotSegments(p, lo, hi);
  const ticks: number[] = [];
  for (let t = p.from; t <= p.to + 1; t += (p.to - p.from) / 4) ticks.push(t);
  const last = values.length ? values[values.length - 1] : null;
  return (
    <figure class="plot-fig">
      <figcaption>
        <span safe>{p.title}</span>{" "}
        <span class="muted" safe>{last === null || last === undefined ? "no data" : `now ${Math.round(last * 10) / 10} ${p.unit}`}</span>
      </figcaption>
      <svg id={p.id} class={`plot ${p.cls}`} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${p.title} over time`} preserveAspectRatio="none">
        <rect class="plot-bg" x={String(PAD_L)} y={String(PAD_T)} width={String(W - PAD_L - PAD_R)} height={String(H - PAD_T - PAD_B)} />
        <text class="axis" x={String(PAD_L - 4)} y={String(PAD_T + 8)} text-anchor="end" safe>{String(Math.round(hi))}</text>
        <text class="axis" x={String(PAD_L - 4)} y={String(H - PAD_B)} text-anchor="end" safe>{String(Math.round(lo))}</text>
        {ticks.map((t, i) => {
          const x = PAD_L + ((t - p.from) / Math.max(1, p.to - p.from)) * (W - PAD_L - PAD_R);
          const anchor = i === 0 ? "start" : i === ticks.length - 1 ? "end" : "middle";
          return (
            <>
              <line class="grid-line" x1={x.toFixed(1)} x2={x.toFixed(1)} y1={String(PAD_T)} y2={String(H - PAD_B)} />
              <text class="axis" x={x.toFixed(1)} y={String(H - 6)} text-anchor={anchor} safe>{hhmm(t)}</text>
            </>
          );
        })}
        {segments.map((pts) => <polyline class="line" points={pts} />)}
        {values.length === 0 ? <text class="axis" x={String(W / 2)} y={String(H / 2)} text-anchor="middle">no samples in this period</text> : ""}
      </svg>
    </figure>
  );
}
