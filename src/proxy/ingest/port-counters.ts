/**
 * Built-in engine byte counters → modems.bytes_tx / bytes_rx (the panel's traffic columns and "traffic today").
 * The engine's per-port counters are monotonic since its start (stats.ts), so each run adds the difference to the
 * previous sample. The baseline (engine startedAt + per-port values) commits in the same transaction as the
 * additions: a control-plane restart continues exactly where it stopped, and an engine restart (new startedAt)
 * starts from zero. Direction: bytesUp (client → target) leaves through the modem = tx; bytesDown = rx.
 */
import type { Sql } from "../../db/client.ts";
import { readInternal, writeInternal } from "./internal-state.ts";

const BASELINE = "internal.proxy_counters";

interface Baseline {
  startedAt: string;
  ports: Record<string, { up: number; down: number }>;
}

/** The part of the engine's GET /stats this needs. */
export interface CounterSample {
  startedAt: string;
  ports: Array<{ id: string; port: number; bytesUp: number; bytesDown: number }>;
}

export interface CounterDelta {
  imei: string;
  up: number;
  down: number;
}

function isSample(x: unknown): x is CounterSample {
  const s = x as CounterSample | null;
  return !!s && typeof s.startedAt === "string" && Array.isArray(s.ports);
}

/** Pure: what to add per modem, and the next baseline. A counter that went backwards restarted at zero. */
export function counterDeltas(sample: CounterSample, prev: Baseline | undefined): { deltas: CounterDelta[]; next: Baseline } {
  const same = prev?.startedAt === sample.startedAt;
  const next: Baseline = { startedAt: sample.startedAt, ports: {} };
  const byImei = new Map<string, CounterDelta>();
  for (const p of sample.ports) {
    if (typeof p.id !== "string" || !Number.isFinite(p.bytesUp) || !Number.isFinite(p.bytesDown)) continue;
    const key = `${p.id}@${p.port}`;
    const base = same ? prev!.ports[key] : undefined;
    const up = base && p.bytesUp >= base.up ? p.bytesUp - base.up : p.bytesUp;
    const down = base && p.bytesDown >= base.down ? p.bytesDown - base.down : p.bytesDown;
    next.ports[key] = { up: p.bytesUp, down: p.bytesDown };
    const d = byImei.get(p.id) ?? { imei: p.id, up: 0, down: 0 };
    d.up += up;
    d.down += down;
    byImei.set(p.id, d);
  }
  return { deltas: [...byImei.values()].filter((d) => d.up > 0 || d.down > 0), next };
}

/** Adds the engine's new bytes to the modems of this node. `stats` is the engine's /stats (null: unreachable, no-op). */
export async function ingestPortCounters(sql: Sql, opts: { nodeId: string; stats: unknown }): Promise<CounterDelta[]> {
  if (!isSample(opts.stats)) return [];
  const sample = opts.stats;
  return sql.begin(async (tx) => {
    const t = tx as unknown as Sql;
    // Serializes concurrent runs (two control planes during a restart) on this node's baseline row.
    await t`select pg_advisory_xact_lock(hashtext(${`lteproxy-counters:${opts.nodeId}`}))`;
    const { deltas, next } = counterDeltas(sample, await readInternal<Baseline>(t, opts.nodeId, BASELINE));
    if (deltas.length) {
      await t`
        update modems m set bytes_tx = m.bytes_tx + d.up, bytes_rx = m.bytes_rx + d.down
        from unnest(${deltas.map((d) => d.imei)}::text[], ${deltas.map((d) => d.up)}::bigint[], ${deltas.map((d) => d.down)}::bigint[])
          as d(imei, up, down)
        where m.node_id = ${opts.nodeId} and m.imei = d.imei`;
    }
    await writeInternal(t, opts.nodeId, BASELINE, next);
    return deltas;
  }) as Promise<CounterDelta[]>;
}
