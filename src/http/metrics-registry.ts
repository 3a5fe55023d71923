/**
 * A small Prometheus registry: counters, gauges and histograms that any subsystem registers (the AT engine,
 * proxy engine and health sweeps feed it through app.ts), plus collectors called at scrape time for values read
 * from elsewhere (the modems table, snapshots). Renders the text exposition format 0.0.4.
 * Conventions (checked by `promtool check metrics` in tests): `lteproxy_` prefix, base units (seconds, bytes),
 * counters end in `_total`.
 */
export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Record<string, string | number>;

export interface Sample {
  /** Suffix after the family name: "" | "_bucket" | "_sum" | "_count". */
  suffix?: string;
  labels?: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export type Collector = () => MetricFamily[] | Promise<MetricFamily[]>;

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkName(name: string, type: MetricType): void {
  if (!NAME_RE.test(name)) throw new Error(`invalid metric name ${name}`);
  if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
}

function labelKey(labels: Labels = {}): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, String(labels[k])]));
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    for (const l of labelNames) if (!LABEL_RE.test(l) || l.startsWith("__")) throw new Error(`invalid label ${l} on ${name}`);
  }
  protected check(labels: Labels = {}): void {
    for (const k of Object.keys(labels)) if (!this.labelNames.includes(k)) throw new Error(`unknown label ${k} on ${this.name}`);
  }
  abstract family(): MetricFamily;
}

export class Counter extends Metric {
  private values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    this.check(labels);
    const k = labelKey(labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by;
    else this.values.set(k, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }
  family(): MetricFamily {
    return { name: this.name, help: this.help, type: "counter", samples: [...this.values.values()].map((v) => ({ labels: v.labels, value: v.value })) };
  }
}

export class Gauge extends Metric {
  private values = new Map<string, { labels: Labels; value: number }>();
  set(labels: Labels, value: number): void {
    this.check(labels);
    this.values.set(labelKey(labels), { labels, value });
  }
  inc(labels: Labels = {}, by = 1): void {
    this.set(labels, this.get(labels) + by);
  }
  dec(labels: Labels = {}, by = 1): void {
    this.set(labels, this.get(labels) - by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }
  /** Drops a series (a modem that went away). */
  remove(labels: Labels): void {
    this.values.delete(labelKey(labels));
  }
  family(): MetricFamily {
    return { name: this.name, help: this.help, type: "gauge", samples: [...this.values.values()].map((v) => ({ labels: v.labels, value: v.value })) };
  }
}

export const DEFAULT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram extends Metric {
  private series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[] = DEFAULT_BUCKETS_S) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new Error(`histogram ${name} cannot use label le`);
  }
  observe(labels: Labels, value: number): void {
    this.check(labels);
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  family(): MetricFamily {
    const samples: Sample[] = [];
    for (const s of this.series.values()) samples.push(...histogramSamples(s.labels, this.buckets, s.counts, s.count, s.sum));
    return { name: this.name, help: this.help, type: "histogram", samples };
  }
}

/** Samples of one histogram series from cumulative bucket counts (for collectors with pre-bucketed data). */
export function histogramSamples(labels: Labels, buckets: readonly number[], cumulative: readonly number[], count: number, sum: number): Sample[] {
  const out: Sample[] = buckets.map((le, i) => ({ suffix: "_bucket", labels: { ...labels, le: formatNumber(le) }, value: cumulative[i] ?? 0 }));
  out.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: count });
  out.push({ suffix: "_sum", labels, value: sum });
  out.push({ suffix: "_count", labels, value: count });
  return out;
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function renderLabels(labels: Labels = {}): string {
  const keys = Object.keys(labels);
  if (!keys.length) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(",")}}`;
}

/** Text exposition of families; families with the same name are merged (first HELP/TYPE wins). */
export function renderFamilies(families: MetricFamily[]): string {
  const merged = new Map<string, MetricFamily>();
  for (const f of families) {
    const cur = merged.get(f.name);
    if (cur) cur.samples.push(...f.samples);
    else merged.set(f.name, { ...f, samples: [...f.samples] });
  }
  const lines: string[] = [];
  for (const f of merged.values()) {
    checkName(f.name, f.type);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${s.suffix ?? ""}${renderLabels(s.labels)} ${formatNumber(s.value)}`);
  }
  return lines.join("\n") + "\n";
}

export class MetricsRegistry {
  private metrics = new Map<string, Metric>();
  private collectors = new Set<Collector>();

  private get<T extends Metric>(name: string, type: MetricType, make: () => T): T {
    const existing = this.metrics.get(name);
    if (existing) {
      const kind = existing instanceof Counter ? "counter" : existing instanceof Gauge ? "gauge" : "histogram";
      if (kind !== type) throw new Error(`metric ${name} already registered as ${kind}`);
      return existing as T;
    }
    checkName(name, type);
    const m = make();
    this.metrics.set(name, m);
    return m;
  }

  /** Idempotent: registering the same name again returns the existing metric. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.get(name, "counter", () => new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.get(name, "gauge", () => new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.get(name, "histogram", () => new Histogram(name, help, labelNames, buckets));
  }

  /** Adds a scrape-time collector; returns a function that removes it. A failing collector is skipped. */
  collect(fn: Collector): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  async families(): Promise<MetricFamily[]> {
    const out: MetricFamily[] = [...this.metrics.values()].map((m) => m.family());
    const results = await Promise.allSettled([...this.collectors].map(async (c) => c()));
    for (const r of results) if (r.status === "fulfilled") out.push(...r.value);
    return out;
  }

  async render(): Promise<string> {
    return renderFamilies(await this.families());
  }
}
