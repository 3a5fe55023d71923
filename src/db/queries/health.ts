/**
 * Health sweeps (src/health/sweep.ts): the per-sweep write is one transaction of three statements, whatever the
 * number of modems: the samples (one multi-row insert), the modem rows (one update from a JSON record set) and ONE
 * `health.sweep` event naming every modem it touched, so 100 modems make one burst on the event stream, not 100.
 */
import type { Sql } from "../client.ts";
import { appendEvent } from "./events.ts";
import { modemColumns, type ModemRow } from "./modem-state.ts";

export interface HealthSampleInput {
  modemId: number;
  ok: boolean;
  csq: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinrRaw: number | null;
  temperature: number | null;
  rttMs: number | null;
  publicIp: string | null;
  /** Modem byte counters as lteproxy totals them (monotonic across modem resets). */
  bytesTx: number | null;
  bytesRx: number | null;
  error: string | null;
}

/** What a sweep writes to a modem row. Null radio values are written as null (the modem said "unknown"). */
export interface ModemHealthUpdate extends Pick<ModemRow, "id" | "csq" | "rssi" | "rsrp" | "rsrq" | "sinr_raw" | "temperature" | "cell_id"> {
  /** False when the AT probe failed: the radio columns are then left as they were. */
  radio: boolean;
  /** Kept when null (a failed probe does not erase the last known public IP). */
  public_ip: string | null;
  /** Written as is: null after a failed data-path probe. */
  rtt_ms: number | null;
  /** Null = leave the counters. */
  bytes_tx: number | null;
  bytes_rx: number | null;
  /** The modems.health JSON: last sweep's verdict, streaks, raw QGDCNT values. */
  health: Record<string, unknown>;
}

const SWEEP_COLUMNS = [
  "id", "state", "wan_ip", "hub", "usb_device", "proxy_port", "bytes_tx", "bytes_rx", "health",
] as const satisfies readonly (keyof ModemRow)[];

/** The rows a sweep needs besides what the manager holds in memory. */
export type SweepModemRow = Pick<ModemRow, (typeof SWEEP_COLUMNS)[number]>;

export async function sweepModemRows(sql: Sql, nodeId: string): Promise<SweepModemRow[]> {
  const rows = await sql`
    select ${sql.unsafe(modemColumns(SWEEP_COLUMNS))}
    from modems where node_id = ${nodeId} order by id`;
  return rows.map((r) => ({
    id: Number(r.id), state: String(r.state), wan_ip: (r.wan_ip as string | null) ?? null, hub: (r.hub as string | null) ?? null,
    usb_device: (r.usb_device as string | null) ?? null, proxy_port: r.proxy_port === null ? null : Number(r.proxy_port),
    bytes_tx: Number(r.bytes_tx ?? 0), bytes_rx: Number(r.bytes_rx ?? 0), health: (r.health as Record<string, unknown>) ?? {},
  }));
}

/**
 * Writes one sweep: samples, modem rows and the single `health.sweep` event, in one transaction.
 * Returns the event's sequence number.
 */
export async function writeSweep(sql: Sql, nodeId: string, w: {
  samples: HealthSampleInput[];
  updates: ModemHealthUpdate[];
  event: Record<string, unknown>;
}): Promise<number> {
  return sql.begin(async (tx) => {
    const q = tx as unknown as Sql;
    if (w.samples.length) {
      const rows = w.samples.map((s) => ({
        modem_id: s.modemId, ok: s.ok, csq: s.csq, rsrp: s.rsrp, rsrq: s.rsrq, sinr_raw: s.sinrRaw, temperature: s.temperature,
        rtt_ms: s.rttMs, public_ip: s.publicIp, bytes_tx: s.bytesTx, bytes_rx: s.bytesRx, error: s.error,
      }));
      await q`insert into health_samples ${q(rows as never, "modem_id", "ok", "csq", "rsrp", "rsrq", "sinr_raw", "temperature",
        "rtt_ms", "public_ip", "bytes_tx", "bytes_rx", "error")}`;
    }
    if (w.updates.length) {
      // One statement for every modem: jsonb_to_recordset types each field and keeps nulls as nulls.
      await q`
        update modems m set
          csq = case when v.radio then v.csq else m.csq end,
          rssi = case when v.radio then v.rssi else m.rssi end,
          rsrp = case when v.radio then v.rsrp else m.rsrp end,
          rsrq = case when v.radio then v.rsrq else m.rsrq end,
          sinr_raw = case when v.radio then v.sinr_raw else m.sinr_raw end,
          temperature = case when v.radio then coalesce(v.temperature, m.temperature) else m.temperature end,
          cell_id = case when v.radio then coalesce(v.cell_id, m.cell_id) else m.cell_id end,
          public_ip = coalesce(v.public_ip::inet, m.public_ip),
          rtt_ms = v.rtt_ms,
          bytes_tx = coalesce(v.bytes_tx, m.bytes_tx),
          bytes_rx = coalesce(v.bytes_rx, m.bytes_rx),
          health = v.health,
          last_seen_at = case when v.radio then now() else m.last_seen_at end,
          updated_at = now()
        from jsonb_to_recordset(${q.json(w.updates as never)}) as v(
          id bigint, radio boolean, csq int, rssi int, rsrp int, rsrq int, sinr_raw int, temperature int, cell_id text,
          public_ip text, rtt_ms float8, bytes_tx bigint, bytes_rx bigint, health jsonb)
        where m.id = v.id and m.node_id = ${nodeId}`;
    }
    return appendEvent(q, { nodeId, modemId: null, kind: "health.sweep", payload: w.event });
  });
}

/**
 * Deletes samples older than `days`, in batches so that a week of 100 modems (≈ 2 M rows) never holds one long
 * lock. Returns how many rows went.
 */
export async function deleteOldSamples(sql: Sql, days: number, opts: { batch?: number; maxBatches?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 20_000;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 1000); i++) {
    const r = await sql`
      delete from health_samples where id in (
        select id from health_samples where ts < now() - make_interval(days => ${days}) limit ${batch})`;
    total += r.count;
    if (r.count < batch) break;
  }
  return total;
}
