/** Reads of the modems table shared by the CLI, the API and the panel. */
import type { Sql } from "../client.ts";

export interface ModemSummary {
  id: number;
  node_id: string;
  slot: string | null;
  imei: string;
  iccid: string | null;
  state: string;
  operator: string | null;
  rat: string | null;
  band: string | null;
  csq: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinr_raw: number | null;
  wan_ip: string | null;
  public_ip: string | null;
  proxy_port: number | null;
  route_table: number | null;
  state_since: Date;
  updated_at: Date;
}

/** Modems of one node (or every node when nodeId is null), ordered by slot. */
export async function listModems(sql: Sql, nodeId: string | null): Promise<ModemSummary[]> {
  return (await sql`
    select id, node_id, slot, imei, iccid, state, operator, rat, band, csq, rsrp, rsrq, sinr_raw,
           host(wan_ip) as wan_ip, host(public_ip) as public_ip, proxy_port, route_table, state_since, updated_at
    from modems
    where ${nodeId === null ? sql`true` : sql`node_id = ${nodeId}`}
    order by slot nulls last, imei`) as unknown as ModemSummary[];
}
