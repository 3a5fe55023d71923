/**
 * Per-verb command metrics of one AT channel, exported as a plain snapshot (the metrics endpoint renders it
 * later). Latency buckets are cumulative, Prometheus style.
 */

/** Upper bounds (ms) of the latency histogram; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000, 60000, 180000] as const;

export type CommandOutcome = "ok" | "error" | "timeout" | "echo_only" | "aborted";

export interface VerbMetrics {
  count: number;
  ok: number;
  /** Final code other than OK (ERROR, +CME ERROR, ...). */
  errors: number;
  timeouts: number;
  echoOnly: number;
  /** Rejected because the port closed or vanished while queued or in flight. */
  aborted: number;
  latency: { bucketsMs: readonly number[]; counts: number[]; infCount: number; sumMs: number };
}

export interface ChannelCounters {
  urcs: number;
  staleLines: number;
  lineOverflows: number;
  resyncs: number;
  resyncFailures: number;
  consecutiveTimeouts: number;
  echoOnly: number;
}

export interface AtMetricsSnapshot extends ChannelCounters {
  commands: Record<string, VerbMetrics>;
  queueDepth: number;
  inFlight: string | null;
  open: boolean;
}

function emptyVerb(): VerbMetrics {
  return {
    count: 0, ok: 0, errors: 0, timeouts: 0, echoOnly: 0, aborted: 0,
    latency: { bucketsMs: LATENCY_BUCKETS_MS, counts: LATENCY_BUCKETS_MS.map(() => 0), infCount: 0, sumMs: 0 },
  };
}

export class AtMetrics {
  readonly counters: ChannelCounters = {
    urcs: 0, staleLines: 0, lineOverflows: 0, resyncs: 0, resyncFailures: 0, consecutiveTimeouts: 0, echoOnly: 0,
  };
  private readonly verbs = new Map<string, VerbMetrics>();

  record(key: string, outcome: CommandOutcome, durationMs: number): void {
    let m = this.verbs.get(key);
    if (!m) {
      m = emptyVerb();
      this.verbs.set(key, m);
    }
    m.count++;
    if (outcome === "ok") m.ok++;
    else if (outcome === "error") m.errors++;
    else if (outcome === "timeout") m.timeouts++;
    else if (outcome === "echo_only") m.echoOnly++;
    else m.aborted++;
    if (outcome === "ok" || outcome === "error") {
      this.counters.consecutiveTimeouts = 0;
      m.latency.sumMs += durationMs;
      m.latency.infCount++;
      LATENCY_BUCKETS_MS.forEach((le, i) => {
        if (durationMs <= le) m.latency.counts[i]!++;
      });
    } else if (outcome === "timeout" || outcome === "echo_only") {
      this.counters.consecutiveTimeouts++;
      if (outcome === "echo_only") this.counters.echoOnly++;
    }
  }

  /** A deep copy, safe to serialise or keep. */
  snapshot(extra: Pick<AtMetricsSnapshot, "queueDepth" | "inFlight" | "open">): AtMetricsSnapshot {
    const commands: Record<string, VerbMetrics> = {};
    for (const [key, m] of this.verbs) {
      commands[key] = { ...m, latency: { ...m.latency, counts: [...m.latency.counts] } };
    }
    return { ...this.counters, commands, ...extra };
  }
}
