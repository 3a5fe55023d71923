/** What the data-plane router reads and writes: port/table assignments, sessions, proxy credentials. */
import type { Sql } from "../client.ts";
import { modemColumns, type ModemRow } from "./modem-state.ts";

const DATA_PLANE_COLUMNS = [
  "id", "imei", "slot", "state", "state_reason", "ifname", "qmi_path", "at_path", "proxy_port", "route_table", "proxy_enabled",
  "wan_ip", "wan_prefix", "dns", "mtu", "public_ip", "data_session",
] as const satisfies readonly (keyof ModemRow)[];

export type DataPlaneModem = Pick<ModemRow, (typeof DATA_PLANE_COLUMNS)[number]>;

// The router reads a missing DNS list as an empty array (array(...)), where the panel reads null (array_agg).
const COLUMNS = (sql: Sql) => sql.unsafe(modemColumns(DATA_PLANE_COLUMNS, { readAs: { dns: "array(select host(d) from unnest(dns) d)" } }));

export async function dataPlaneModems(sql: Sql, nodeId: string): Promise<DataPlaneModem[]> {
  return (await sql`select ${COLUMNS(sql)} from modems where node_id = ${nodeId} order by id`) as unknown as DataPlaneModem[];
}

export async function dataPlaneModem(sql: Sql, nodeId: string, id: number): Promise<DataPlaneModem | undefined> {
  const rows = await sql`select ${COLUMNS(sql)} from modems where node_id = ${nodeId} and id = ${id}`;
  return rows[0] as unknown as DataPlaneModem | undefined;
}

export async function assignments(sql: Sql, nodeId: string): Promise<Array<{ imei: string; port: number; table: number }>> {
  return (await sql`
    select imei, proxy_port as port, route_table as "table" from modems
    where node_id = ${nodeId} and proxy_port is not null and route_table is not null`) as unknown as Array<{ imei: string; port: number; table: number }>;
}

/** Stores an assignment; false when another row took the port or table first (UNIQUE per node). */
export async function saveAssignment(sql: Sql, nodeId: string, id: number, port: number, table: number): Promise<boolean> {
  try {
    await sql`update modems set proxy_port = ${port}, route_table = ${table}, updated_at = now()
              where id = ${id} and node_id = ${nodeId}`;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") return false;
    throw error;
  }
}

export async function saveSession(sql: Sql, id: number, s: { address: string; prefix: number; dns: string[]; mtu: number; session: Record<string, unknown> }): Promise<void> {
  await sql`update modems set wan_ip = ${s.address}::inet, wan_prefix = ${s.prefix}, dns = ${s.dns}::inet[], mtu = ${s.mtu},
            data_session = ${sql.json(s.session as never)}, updated_at = now() where id = ${id}`;
}

export async function clearSession(sql: Sql, id: number): Promise<void> {
  await sql`update modems set wan_ip = null, wan_prefix = null, data_session = null, updated_at = now() where id = ${id}`;
}

export async function savePublicIp(sql: Sql, id: number, ip: string | null, rttMs?: number): Promise<void> {
  await sql`update modems set public_ip = ${ip}::inet, rtt_ms = ${rttMs ?? null}, updated_at = now() where id = ${id}`;
}

export interface PortUser {
  modem_id: number | null;
  username: string;
  password: string;
  password_hash: string;
}

/** Enabled proxy users of a node: per-modem ones and node-wide ones (modem_id null). */
export async function proxyUsers(sql: Sql, nodeId: string): Promise<PortUser[]> {
  return (await sql`
    select modem_id, username, password, password_hash from proxy_users
    where enabled and (node_id = ${nodeId} or node_id is null) order by id`) as unknown as PortUser[];
}

/** Gives a modem its own credentials the first time it gets a port (what a proxy farm hands to a client). */
export async function ensurePortUser(sql: Sql, nodeId: string, modemId: number, port: number): Promise<void> {
  const existing = await sql`select 1 from proxy_users where modem_id = ${modemId} limit 1`;
  if (existing.length) return;
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString("base64url");
  const hash = await Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
  await sql`insert into proxy_users (node_id, modem_id, username, password, password_hash)
            values (${nodeId}, ${modemId}, ${`u${port}`}, ${password}, ${hash}) on conflict do nothing`;
}
