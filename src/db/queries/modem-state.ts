/**
 * The modem control plane's writes to `modems` (identity, physical paths, state, radio columns) and the
 * `modem_events` rows that go with them. Every state change is one transaction: the row update and its
 * `modem.state` event ({from, to, reason}) commit together, so the event stream (NOTIFY from the trigger) never
 * shows a state the table does not have. Every statement is scoped by node_id: a node never touches another
 * node's rows (fleet rule, issue 4 item 7).
 */
import { AppError } from "../../lib/errors.ts";
import type { Sql } from "../client.ts";
import { appendEvent } from "./events.ts";

export const MODEM_STATES = [
  "detected", "identifying", "searching", "registered", "connecting", "online",
  "degraded", "healing", "rotating", "offline", "unplugged", "failed", "disabled",
] as const;

export type ModemState = (typeof MODEM_STATES)[number];

export function isModemState(s: unknown): s is ModemState {
  return typeof s === "string" && (MODEM_STATES as readonly string[]).includes(s);
}

/**
 * A `modems` row as lteproxy reads it (sql/001_schema.sql): the one description of the table's columns. Every
 * other modem row shape (this file's, the panel's, the API's, the health sweep's) picks from it, and every select
 * list is built by `modemColumns`, so a column is named once. inet values are read as text (see READ_AS);
 * `rotation_token_hash` is never read, only whether it is set (`has_rotation_link`).
 */
export interface ModemRow {
  id: number;
  node_id: string;
  imei: string;
  iccid: string | null;
  imsi: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  slot: string | null;
  hub: string | null;
  at_path: string | null;
  qmi_path: string | null;
  ifname: string | null;
  usb_device: string | null;
  state: string;
  state_reason: string | null;
  state_since: Date;
  sim_state: string | null;
  operator: string | null;
  operator_code: string | null;
  registration: string | null;
  rat: string | null;
  band: string | null;
  cell_id: string | null;
  csq: number | null;
  rssi: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinr_raw: number | null;
  temperature: number | null;
  wan_ip: string | null;
  wan_prefix: number | null;
  dns: string[] | null;
  mtu: number | null;
  public_ip: string | null;
  rtt_ms: number | null;
  data_session: Record<string, unknown> | null;
  proxy_port: number | null;
  route_table: number | null;
  proxy_enabled: boolean;
  has_rotation_link: boolean;
  rotation_method: string;
  rotation_schedule: string | null;
  last_rotation_at: Date | null;
  bytes_tx: number;
  bytes_rx: number;
  health: Record<string, unknown>;
  last_seen_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type ModemColumn = keyof ModemRow;

/** Columns that are not read as stored: inet as text (host()), the rotation link as a flag. `t` is "" or "m.". */
const READ_AS: Partial<Record<ModemColumn, (t: string) => string>> = {
  wan_ip: (t) => `host(${t}wan_ip)`,
  public_ip: (t) => `host(${t}public_ip)`,
  dns: (t) => `(select array_agg(host(d)) from unnest(${t}dns) d)`,
  has_rotation_link: (t) => `(${t}rotation_token_hash is not null)`,
};

/**
 * The select list for `cols` of `modems`, in that order (result objects keep it), each under its own name or the
 * one `rename` gives. `table` is the query's alias for `modems` ("m"), if it has one; `readAs` replaces READ_AS
 * for a query that reads a column differently. Trusted input only: never build it from a request.
 */
export function modemColumns(cols: readonly ModemColumn[], opts: {
  table?: string;
  rename?: Partial<Record<ModemColumn, string>>;
  readAs?: Partial<Record<ModemColumn, string>>;
} = {}): string {
  const t = opts.table ? `${opts.table}.` : "";
  return cols.map((c) => {
    const read = opts.readAs?.[c] ?? READ_AS[c]?.(t);
    const name = opts.rename?.[c];
    return read || name ? `${read ?? t + c} as ${name ?? c}` : t + c;
  }).join(", ");
}

const STATE_COLUMNS = [
  "id", "node_id", "imei", "iccid", "imsi", "manufacturer", "model", "firmware", "slot", "hub", "at_path", "qmi_path",
  "ifname", "usb_device", "state", "state_reason", "state_since", "proxy_port", "route_table",
] as const satisfies readonly ModemColumn[];

/** What the modem control plane keeps of a row; `state` is one of MODEM_STATES (the table's CHECK). */
export interface ModemStateRow extends Omit<Pick<ModemRow, (typeof STATE_COLUMNS)[number]>, "state"> {
  state: ModemState;
}

const COLUMNS = modemColumns(STATE_COLUMNS);

/** Every modem row of one node. */
export async function loadNodeModems(sql: Sql, nodeId: string): Promise<ModemStateRow[]> {
  return (await sql.unsafe(`select ${COLUMNS} from modems where node_id = $1 order by id`, [nodeId])) as unknown as ModemStateRow[];
}

export interface SeenModem {
  imei: string;
  slot: string;
  hub?: string | null;
  atPath: string;
  qmiPath?: string | null;
  ifname?: string | null;
  usbDevice?: string | null;
}

/**
 * The row of (node, IMEI), created on first sight (state `detected`, with its event) or updated with where the
 * modem sits now. A modem seen again (replug, reboot, other slot, control-plane restart) keeps its row, and with
 * it its proxy port and routing table.
 */
export async function upsertSeenModem(sql: Sql, nodeId: string, m: SeenModem): Promise<{ row: ModemStateRow; created: boolean }> {
  return sql.begin(async (tx) => {
    const rows = await tx.unsafe(
      `insert into modems (node_id, imei, slot, hub, at_path, qmi_path, ifname, usb_device, state, state_reason, last_seen_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, 'detected', $9, now())
       on conflict (node_id, imei) do update set slot = excluded.slot, hub = excluded.hub, at_path = excluded.at_path,
         qmi_path = excluded.qmi_path, ifname = excluded.ifname, usb_device = excluded.usb_device,
         last_seen_at = now(), updated_at = now()
       returning ${COLUMNS}, (xmax = 0) as created`,
      [nodeId, m.imei, m.slot, m.hub ?? null, m.atPath, m.qmiPath ?? null, m.ifname ?? null, m.usbDevice ?? null, `appeared in ${m.slot}`],
    );
    const { created, ...row } = rows[0] as unknown as ModemStateRow & { created: boolean };
    if (created) {
      await appendEvent(tx as unknown as Sql, {
        nodeId, modemId: row.id, kind: "modem.state",
        payload: { from: null, to: "detected", reason: `appeared in ${m.slot}`, imei: m.imei, slot: m.slot },
      });
    }
    return { row, created };
  });
}

export interface Transition {
  modemId: number;
  from: ModemState;
  to: ModemState;
  reason: string;
  seq: number;
  at: Date;
}

/**
 * Moves one modem of this node to `to`, writing the row and its `modem.state` event in one transaction.
 * Returns null when the modem already is in `to` (nothing written). Throws MODEM_NOT_FOUND for an id that is not
 * this node's.
 */
export async function transitionModem(sql: Sql, nodeId: string, modemId: number, to: ModemState, reason: string): Promise<Transition | null> {
  if (!isModemState(to)) throw new AppError("MODEM_BAD_STATE", `unknown modem state ${JSON.stringify(to)}`);
  return sql.begin(async (tx) => {
    const cur = await tx`select state, imei, slot from modems where id = ${modemId} and node_id = ${nodeId} for update`;
    if (cur.length === 0) throw new AppError("MODEM_NOT_FOUND", `no modem ${modemId} on node ${nodeId}`, { modemId, nodeId });
    const from = cur[0]!.state as ModemState;
    if (from === to) return null;
    const upd = await tx`
      update modems set state = ${to}, state_reason = ${reason}, state_since = now(), updated_at = now()
      where id = ${modemId} and node_id = ${nodeId} returning state_since`;
    const seq = await appendEvent(tx as unknown as Sql, {
      nodeId, modemId, kind: "modem.state",
      payload: { from, to, reason, imei: cur[0]!.imei, slot: cur[0]!.slot },
    });
    return { modemId, from, to, reason, seq, at: upd[0]!.state_since as Date };
  });
}

export type IdentityColumns = Pick<ModemRow, "iccid" | "imsi" | "manufacturer" | "model" | "firmware">;

/** Identity read from the modem. A SIM that is not readable yet (null) does not erase a known ICCID/IMSI. */
export async function updateModemIdentity(sql: Sql, nodeId: string, modemId: number, id: IdentityColumns): Promise<void> {
  await sql`
    update modems set iccid = coalesce(${id.iccid}, iccid), imsi = coalesce(${id.imsi}, imsi),
      manufacturer = coalesce(${id.manufacturer}, manufacturer), model = coalesce(${id.model}, model),
      firmware = coalesce(${id.firmware}, firmware), updated_at = now()
    where id = ${modemId} and node_id = ${nodeId}`;
}

/** Where the modem's interfaces are now (the netdev can show up after the tty). */
export async function updateModemPaths(sql: Sql, nodeId: string, modemId: number, p: Omit<SeenModem, "imei">): Promise<void> {
  await sql`
    update modems set slot = ${p.slot}, hub = ${p.hub ?? null}, at_path = ${p.atPath}, qmi_path = ${p.qmiPath ?? null},
      ifname = ${p.ifname ?? null}, usb_device = ${p.usbDevice ?? null}, updated_at = now()
    where id = ${modemId} and node_id = ${nodeId}`;
}

/** The radio columns a status poll writes (lifecycle.ts radioColumns). */
export type RadioColumns = Pick<ModemRow,
  "sim_state" | "registration" | "operator" | "operator_code" | "rat" | "band" | "cell_id" | "csq" | "rssi" | "rsrp" |
  "rsrq" | "sinr_raw" | "temperature">;

/**
 * Radio columns from a status poll. With `changed`, a `modem.updated` event ({changed: {column: value}}) is
 * appended in the same transaction.
 */
export async function updateModemRadio(sql: Sql, nodeId: string, modemId: number, r: RadioColumns,
  changed: Partial<RadioColumns> | null): Promise<void> {
  const write = async (q: Sql) => {
    await q`
      update modems set sim_state = ${r.sim_state}, registration = ${r.registration}, operator = ${r.operator},
        operator_code = ${r.operator_code}, rat = ${r.rat}, band = ${r.band}, cell_id = ${r.cell_id}, csq = ${r.csq},
        rssi = ${r.rssi}, rsrp = ${r.rsrp}, rsrq = ${r.rsrq}, sinr_raw = ${r.sinr_raw}, temperature = ${r.temperature},
        last_seen_at = now(), updated_at = now()
      where id = ${modemId} and node_id = ${nodeId}`;
    if (changed) await appendEvent(q, { nodeId, modemId, kind: "modem.updated", payload: { changed } });
  };
  if (!changed) return write(sql);
  await sql.begin((tx) => write(tx as unknown as Sql));
}

const LIST_COLUMNS = [
  "id", "node_id", "slot", "usb_device", "imei", "iccid", "state", "state_reason", "operator", "operator_code", "rat", "band",
  "csq", "rsrp", "rsrq", "sinr_raw", "temperature", "wan_ip", "public_ip", "proxy_port", "route_table", "state_since", "updated_at",
] as const satisfies readonly ModemColumn[];

/** A row of `lteproxy modems`: the proxy port is called `port` there. */
export interface ModemListRow extends Omit<Pick<ModemRow, (typeof LIST_COLUMNS)[number]>, "proxy_port"> {
  port: ModemRow["proxy_port"];
}

/** What `lteproxy modems` and `lteproxy rotate` list (nodeId null = every node). */
export async function listModemRows(sql: Sql, nodeId: string | null): Promise<ModemListRow[]> {
  return (await sql`
    select ${sql.unsafe(modemColumns(LIST_COLUMNS, { rename: { proxy_port: "port" } }))}
    from modems where ${nodeId === null ? sql`true` : sql`node_id = ${nodeId}`}
    order by node_id, id`) as unknown as ModemListRow[];
}

/** A modem of this node named by IMEI, slot, USB device ("1-1.3") or row id. */
export async function findNodeModem(sql: Sql, nodeId: string, target: string): Promise<ModemStateRow | null> {
  const id = /^\d{1,12}$/.test(target) && !/^\d{14,16}$/.test(target) ? Number(target) : -1;
  const rows = await sql.unsafe(
    `select ${COLUMNS} from modems where node_id = $1 and (imei = $2 or slot = $2 or usb_device = $2 or id = $3)
     order by (imei = $2) desc, id limit 1`, [nodeId, target, id]);
  return (rows[0] as unknown as ModemStateRow | undefined) ?? null;
}

/**
 * Session advisory lock "this node's modems are driven by a process": held by the running control plane's modem
 * manager (one per node id), and by `lteproxy at` while it talks to a port directly. It dies with the holder's
 * connection, so a crashed process never leaves it behind.
 */
export interface NodeModemLock {
  /** False once the lock's connection is gone (PostgreSQL restarted): the holder should try to take it again. */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

export async function tryLockNodeModems(sql: Sql, nodeId: string): Promise<NodeModemLock | null> {
  const conn = await sql.reserve();
  let ok = false;
  try {
    const rows = await conn`select pg_try_advisory_lock(hashtext('lteproxy.modems'), hashtext(${nodeId})) as ok`;
    ok = rows[0]?.ok === true;
  } finally {
    if (!ok) conn.release();
  }
  if (!ok) return null;
  let released = false;
  return {
    async alive() {
      if (released) return false;
      try {
        await conn`select 1`;
        return true;
      } catch {
        return false;
      }
    },
    async release() {
      if (released) return;
      released = true;
      await conn`select pg_advisory_unlock(hashtext('lteproxy.modems'), hashtext(${nodeId}))`.catch(() => undefined);
      conn.release();
    },
  };
}
