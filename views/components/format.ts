/** Formatting for views: plain functions returning text (escape at the element with `safe`). */

export function dash(v: unknown): string {
  return v === null || v === undefined || v === "" ? "–" : String(v);
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) (v /= 1000), i++;
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; relative to `now`. */
export function ago(d: Date | string | null | undefined, now = Date.now()): string {
  if (!d) return "–";
  const s = Math.max(0, Math.round((now - new Date(d).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** ISO-like local timestamp without the T and milliseconds: "2026-01-31 14:03:22". */
export function ts(d: Date | string | null | undefined): string {
  if (!d) return "–";
  const x = new Date(d);
  if (Number.isNaN(x.getTime())) return "–";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${x.getFullYear()}-${p(x.getMonth() + 1)}-${p(x.getDate())} ${p(x.getHours())}:${p(x.getMinutes())}:${p(x.getSeconds())}`;
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/**
 * Signal bars 0–4 from RSRP (dBm), the usual LTE thresholds: ≥ −85 excellent, ≥ −95 good, ≥ −105 fair,
 * ≥ −115 poor; below that (or unknown) none.
 */
export function signalBars(rsrp: number | null | undefined): number {
  if (rsrp === null || rsrp === undefined) return 0;
  if (rsrp >= -85) return 4;
  if (rsrp >= -95) return 3;
  if (rsrp >= -105) return 2;
  if (rsrp >= -115) return 1;
  return 0;
}

export function imeiTail(imei: string): string {
  return imei.length > 6 ? `…${imei.slice(-6)}` : imei;
}

/** "LTE BAND 3" → "B3"; other texts unchanged. */
export function bandShort(band: string | null | undefined): string | null {
  if (!band) return null;
  const m = /(\d+)\s*$/.exec(band);
  return m ? `B${m[1]}` : band;
}
