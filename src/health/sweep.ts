/**
 * One health sweep over this node's modems: per modem in parallel (capped), the chained AT probe (at-probe.ts) and,
 * for modems that carry data, the data-path probe (http-probe.ts, one batched curl for all of them). The result is
 * one transaction (src/db/queries/health.ts): samples, modem rows, ONE `health.sweep` event. The per-modem streaks
 * the heal triggers and alert rules read (triggers.ts) are kept here in memory.
 *
 * Skipped: modems that are gone or being identified, and modems someone else holds (healing, rotating, disabled):
 * probing a modem in the middle of an airplane toggle would only add noise to its AT queue.
 */
import type { Sql } from "../db/client.ts";
import { sweepModemRows, writeSweep, type HealthSampleInput, type ModemHealthUpdate, type SweepModemRow } from "../db/queries/health.ts";
import type { ModemState } from "../db/queries/modem-state.ts";
import { childLogger } from "../lib/logger.ts";
import type { AtChannel } from "../modem/at/types.ts";
import type { ManagedModem } from "../modem/manager.ts";
import { probeAt, type AtSample } from "./at-probe.ts";
import { probeMany, type HttpProbe, type ProbeOutcome } from "./http-probe.ts";
import { mapLimit } from "./map-limit.ts";
import type { HealthMetrics } from "./metrics.ts";
import { newTrack, type ModemTrack } from "./triggers.ts";

const log = childLogger("health");

export const SWEPT_STATES: ReadonlySet<ModemState> = new Set(["searching", "registered", "connecting", "online", "degraded", "offline", "failed"]);
const DATA_STATES: ReadonlySet<ModemState> = new Set(["online", "degraded"]);

export interface SweepOptions {
  /** Modems probed at once (config health.concurrency). */
  concurrency: number;
  /** Engine timeout of the AT probe line (the manual's class for these queries is 300 ms; ×10 for a loaded host). */
  atTimeoutMs: number;
  /** Bound including time queued behind other commands. */
  atDeadlineMs: number;
  /** config health.check_url; empty = no data-path probe. */
  checkUrl: string;
}

export const DEFAULT_SWEEP: SweepOptions = { concurrency: 32, atTimeoutMs: 3_000, atDeadlineMs: 10_000, checkUrl: "" };

export interface SweepDeps {
  sql: Sql;
  nodeId: string;
  modems: { list(): ManagedModem[]; channel(target: number): AtChannel };
  httpProbe?: HttpProbe;
  metrics: HealthMetrics;
  /** Modems to leave alone this sweep (a heal ladder runs). */
  skip?(modemId: number): boolean;
}

export interface SweepReport {
  /** Sequence of the sweep's event; null when it could not be stored. */
  seq: number | null;
  startedAt: Date;
  durationMs: number;
  modemIds: number[];
  ok: number;
  failed: number[];
  dataProbes: number;
  error?: string;
}

export class HealthSweeper {
  readonly tracks = new Map<number, ModemTrack>();
  /** Rows of the last load (hub, USB device, WAN address, counters). */
  rows = new Map<number, SweepModemRow>();
  private running: Promise<SweepReport> | null = null;
  private readonly opts: SweepOptions;

  constructor(private readonly deps: SweepDeps, opts: Partial<SweepOptions> = {}) {
    this.opts = { ...DEFAULT_SWEEP, ...opts };
  }

  track(modemId: number): ModemTrack {
    let t = this.tracks.get(modemId);
    if (!t) this.tracks.set(modemId, (t = newTrack()));
    return t;
  }

  /** Forgets a modem's failure streaks (after a heal ladder ended: they led to it and are spent). */
  resetStreaks(modemId: number): void {
    const t = this.track(modemId);
    Object.assign(t, { atFails: 0, probeFails: 0, noSignal: 0, lastAtError: null, lastProbeError: null });
  }

  hubOf(modemId: number): string | null {
    return this.rows.get(modemId)?.hub ?? null;
  }

  async loadRows(): Promise<Map<number, SweepModemRow>> {
    this.rows = new Map((await sweepModemRows(this.deps.sql, this.deps.nodeId)).map((r) => [r.id, r]));
    return this.rows;
  }

  /** Runs a sweep, or joins the one running. Never rejects. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Is this modem really serving? A fresh AT probe plus, when configured, a data-path probe of its address. */
  async verify(modemId: number): Promise<{ ok: boolean; detail: string }> {
    let channel: AtChannel;
    try {
      channel = this.deps.modems.channel(modemId);
    } catch (e) {
      return { ok: false, detail: `AT port: ${(e as Error).message}` };
    }
    const at = await probeAt(channel, { timeoutMs: this.opts.atTimeoutMs, deadlineMs: this.opts.atDeadlineMs });
    if (!at.ok) return { ok: false, detail: `AT probe: ${at.error}` };
    if (!this.opts.checkUrl || !this.deps.httpProbe) return { ok: true, detail: "AT answers" };
    const row = (await this.loadRows()).get(modemId);
    if (!row?.wan_ip) return { ok: false, detail: "no WAN address" };
    const out = await probeMany(this.deps.httpProbe, [row.wan_ip], this.opts.checkUrl);
    const r = out.get(row.wan_ip);
    return r?.result
      ? { ok: true, detail: `public IP ${r.result.ip}, ${r.result.rttMs} ms` }
      : { ok: false, detail: `data path: ${r?.error ?? "no answer"}` };
  }

  private async sweepOnce(): Promise<SweepReport> {
    const startedAt = new Date();
    const t0 = performance.now();
    const report: SweepReport = { seq: null, startedAt, durationMs: 0, modemIds: [], ok: 0, failed: [], dataProbes: 0 };
    try {
      // PostgreSQL away: probe from the last rows anyway, so heal triggers keep working; only the write fails.
      const rows = await this.loadRows().catch((e) => {
        log.warn({ err: String(e) }, "modem rows unavailable: sweeping with the last known ones");
        return this.rows;
      });
      const targets = this.deps.modems.list().filter((m) => m.present && SWEPT_STATES.has(m.state) && !this.deps.skip?.(m.id));
      const dataTargets = this.opts.checkUrl && this.deps.httpProbe
        ? targets.filter((m) => DATA_STATES.has(m.state) && rows.get(m.id)?.wan_ip)
        : [];
      const addresses = dataTargets.map((m) => rows.get(m.id)!.wan_ip!);
      const [atSamples, probes] = await Promise.all([
        mapLimit(targets, this.opts.concurrency, (m) => this.probeModem(m)),
        addresses.length ? probeMany(this.deps.httpProbe!, addresses, this.opts.checkUrl, this.opts.concurrency) : Promise.resolve(new Map<string, ProbeOutcome>()),
      ]);
      report.dataProbes = addresses.length;
      const samples: HealthSampleInput[] = [];
      const updates: ModemHealthUpdate[] = [];
      targets.forEach((m, i) => {
        const row = rows.get(m.id);
        if (!row) return;
        const at = atSamples[i]!;
        const probe = DATA_STATES.has(m.state) && row.wan_ip ? probes.get(row.wan_ip) : undefined;
        const { sample, update } = this.account(m.id, row, at, probe);
        samples.push(sample);
        updates.push(update);
        report.modemIds.push(m.id);
        if (sample.ok) report.ok++;
        else report.failed.push(m.id);
      });
      const durationMs = performance.now() - t0;
      report.seq = await writeSweep(this.deps.sql, this.deps.nodeId, {
        samples, updates,
        event: { modemIds: report.modemIds, ok: report.ok, failed: report.failed, dataProbes: report.dataProbes, durationMs: Math.round(durationMs) },
      });
      this.deps.metrics.sweeps.inc({ result: "ok" });
    } catch (e) {
      report.error = e instanceof Error ? e.message : String(e);
      this.deps.metrics.sweeps.inc({ result: "error" });
      log.warn({ err: report.error }, "health sweep could not be stored");
    }
    report.durationMs = performance.now() - t0;
    this.deps.metrics.sweepSeconds.observe({}, report.durationMs / 1000);
    return report;
  }

  /** The AT probe of one modem; a modem whose previous probe is still queued is not asked again. */
  private async probeModem(m: ManagedModem): Promise<AtSample> {
    const track = this.track(m.id);
    if (track.pending) return failedSample("previous AT probe still unanswered");
    let channel: AtChannel;
    try {
      channel = this.deps.modems.channel(m.id);
    } catch (e) {
      return failedSample(`AT port: ${(e as Error).message}`);
    }
    track.pending = true;
    return probeAt(channel, {
      timeoutMs: this.opts.atTimeoutMs, deadlineMs: this.opts.atDeadlineMs,
      onSettled: () => {
        track.pending = false;
      },
    });
  }

  /** Folds one modem's probes into its streaks, its sample and its row update. */
  private account(id: number, row: SweepModemRow, at: AtSample, probe: ProbeOutcome | undefined): { sample: HealthSampleInput; update: ModemHealthUpdate } {
    const t = this.track(id);
    if (at.ok) {
      t.atFails = 0;
      t.lastAtError = null;
      t.noSignal = at.csq === null ? t.noSignal + 1 : 0;
      t.temperature = at.temperature ?? t.temperature;
    } else {
      t.atFails++;
      t.lastAtError = at.error;
      this.deps.metrics.probeFailures.inc({ probe: "at" });
    }
    if (probe === undefined) {
      t.probeFails = 0;
      t.lastProbeError = null;
    } else if (probe.result) {
      t.probeFails = 0;
      t.lastProbeError = null;
    } else {
      t.probeFails++;
      t.lastProbeError = probe.error;
      this.deps.metrics.probeFailures.inc({ probe: "data" });
    }
    const prev = row.health.qgdcnt as { tx?: number; rx?: number } | undefined;
    const counted = (raw: number | null, last: number | undefined, total: number) =>
      // QGDCNT counts since the modem's last reset: a smaller value than last time means it restarted from 0.
      raw === null ? null : total + (last !== undefined && raw >= last ? raw - last : raw);
    const bytesTx = counted(at.bytesSent, prev?.tx, row.bytes_tx);
    const bytesRx = counted(at.bytesReceived, prev?.rx, row.bytes_rx);
    const ok = at.ok && (probe === undefined || probe.result !== null);
    const errors = [at.ok ? null : at.error, probe && !probe.result ? `data path: ${probe.error}` : null].filter(Boolean).join("; ") || null;
    const sample: HealthSampleInput = {
      modemId: id, ok, csq: at.csq, rsrp: at.rsrp, rsrq: at.rsrq, sinrRaw: at.sinrRaw, temperature: at.temperature,
      rttMs: probe?.result?.rttMs ?? null, publicIp: probe?.result?.ip ?? null, bytesTx, bytesRx, error: errors,
    };
    const health: Record<string, unknown> = {
      checkedAt: new Date().toISOString(), ok,
      at: { ok: at.ok, error: at.error, ms: Math.round(at.durationMs) },
      data: probe === undefined ? null : { ok: probe.result !== null, error: probe.error, rttMs: probe.result?.rttMs ?? null },
      atFails: t.atFails, probeFails: t.probeFails, noSignal: t.noSignal,
      qgdcnt: at.bytesSent === null ? (prev ?? null) : { tx: at.bytesSent, rx: at.bytesReceived },
    };
    const update: ModemHealthUpdate = {
      id, radio: at.ok, csq: at.csq, rssi: at.rssi, rsrp: at.rsrp, rsrq: at.rsrq, sinr_raw: at.sinrRaw,
      temperature: at.temperature, cell_id: at.cellId, public_ip: probe?.result?.ip ?? null, rtt_ms: probe?.result?.rttMs ?? null,
      bytes_tx: bytesTx, bytes_rx: bytesRx, health,
    };
    return { sample, update };
  }
}

function failedSample(error: string): AtSample {
  return {
    ok: false, error, csq: null, rssi: null, rsrp: null, rsrq: null, sinrRaw: null, cellId: null, registered: null,
    registration: null, temperature: null, bytesSent: null, bytesReceived: null, durationMs: 0,
  };
}
