/**
 * connection_log rows from either engine's telemetry: a JSON line of the built-in engine's spool (conn-log-spool.ts)
 * or a parsed 3proxy log record (three-proxy/log-parser.ts). Pure conversions plus one batched insert. Everything
 * that reaches an inet/integer column is checked here, because one bad value would fail a whole multi-row insert.
 */
import { isIP } from "node:net";
import type { Sql } from "../../db/client.ts";
import type { ThreeProxyLogRecord } from "../three-proxy/log-parser.ts";

export interface ConnectionLogRow {
  node_id: string;
  modem_id: number | null;
  imei: string | null;
  port: number;
  ts: Date;
  client_ip: string | null;
  client_port: number | null;
  username: string | null;
  target_host: string | null;
  target_port: number | null;
  bytes_up: number;
  bytes_down: number;
  duration_ms: number | null;
  result: string;
  engine: "builtin" | "3proxy";
}

export const ROW_COLUMNS = [
  "node_id", "modem_id", "imei", "port", "ts", "client_ip", "client_port", "username", "target_host", "target_port",
  "bytes_up", "bytes_down", "duration_ms", "result", "engine",
] as const;

/** Rows per INSERT: 1000 × 15 parameters stays far below PostgreSQL's 65535-parameter limit. */
export const BATCH_ROWS = 1000;
const INT4_MAX = 2_147_483_647;

/** "1.2.3.4:80", "[::1]:443", "host.example:8080" → host and port; null when there is no valid port. */
export function splitHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]*):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : null;
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;

/**
 * One spool line → a row, or a string saying why the line is unusable (the caller counts and skips it).
 * `modemFor` maps an IMEI (the port id) to modems.id.
 */
export function rowFromSpoolLine(line: string, nodeId: string, modemFor: (imei: string) => number | undefined): ConnectionLogRow | string {
  let e: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "not a JSON object";
    e = parsed as Record<string, unknown>;
  } catch {
    return "not JSON";
  }
  const ts = typeof e.ts === "string" ? new Date(e.ts) : null;
  if (!ts || Number.isNaN(ts.getTime())) return "bad ts";
  if (!Number.isInteger(e.port) || (e.port as number) < 1 || (e.port as number) > 65535) return "bad port";
  if (typeof e.portId !== "string" || e.portId.length === 0 || e.portId.length > 64) return "bad portId";
  if (typeof e.result !== "string" || e.result.length === 0 || e.result.length > 64) return "bad result";
  if (!isCount(e.up) || !isCount(e.down)) return "bad byte counts";
  if (e.user !== null && e.user !== undefined && (typeof e.user !== "string" || e.user.length > 255)) return "bad user";
  const client = typeof e.client === "string" ? splitHostPort(e.client) : null;
  const clientIp = client && isIP(client.host) !== 0 ? client.host : null;
  const target = typeof e.target === "string" ? splitHostPort(e.target) : null;
  const ms = isCount(e.ms) ? Math.min(Math.round(e.ms), INT4_MAX) : null;
  return {
    node_id: nodeId,
    modem_id: modemFor(e.portId) ?? null,
    imei: e.portId,
    port: e.port as number,
    ts,
    client_ip: clientIp,
    client_port: clientIp ? client!.port : null,
    username: (e.user as string | null | undefined) ?? null,
    target_host: target ? target.host.slice(0, 255) : typeof e.target === "string" ? e.target.slice(0, 255) : null,
    target_port: target?.port ?? null,
    bytes_up: Math.round(e.up),
    bytes_down: Math.round(e.down),
    duration_ms: ms,
    result: e.result,
    engine: "builtin",
  };
}

/** A parsed 3proxy record of modem `imei` → a row. */
export function rowFromThreeProxy(r: ThreeProxyLogRecord, imei: string, nodeId: string, modemId: number | undefined): ConnectionLogRow {
  return {
    node_id: nodeId,
    modem_id: modemId ?? null,
    imei,
    port: r.port,
    ts: r.ts,
    client_ip: r.clientIp,
    client_port: r.clientPort <= 65535 ? r.clientPort : null,
    username: r.username,
    target_host: r.targetHost === "" ? null : r.targetHost.slice(0, 255),
    target_port: r.targetPort > 0 && r.targetPort <= 65535 ? r.targetPort : null,
    bytes_up: r.bytesUp,
    bytes_down: r.bytesDown,
    duration_ms: Math.min(r.durationMs, INT4_MAX),
    result: r.result,
    engine: "3proxy",
  };
}

/** Multi-row inserts of BATCH_ROWS rows each. Run it inside the caller's transaction. */
export async function insertConnectionRows(sql: Sql, rows: ConnectionLogRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    await sql`insert into connection_log ${sql(batch, ...ROW_COLUMNS)}`;
  }
}

/** modems.id by IMEI for one node (the default `imeiToModem`). */
export async function modemIdsByImei(sql: Sql, nodeId: string): Promise<Map<string, number>> {
  const rows = await sql`select imei, id from modems where node_id = ${nodeId}`;
  return new Map(rows.map((r) => [r.imei as string, Number(r.id)]));
}
