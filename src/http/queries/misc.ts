/** Small panel reads: SMS inbox, proxy credentials, nodes, job runs. */
import type { Sql } from "../../db/client.ts";

export interface SmsRow {
  id: number;
  modem_id: number;
  direction: "in" | "out";
  peer: string;
  body: string;
  status: string;
  sent_at: Date | null;
  created_at: Date;
}

export async function listSms(sql: Sql, modemId: number, limit = 50): Promise<SmsRow[]> {
  return (await sql`
    select id, modem_id, direction, peer, body, status, sent_at, created_at from sms_messages
    where modem_id = ${modemId} order by created_at desc, id desc limit ${limit}`) as unknown as SmsRow[];
}

export interface ProxyRow {
  modem_id: number;
  node_id: string;
  slot: string | null;
  imei: string;
  state: string;
  port: number | null;
  enabled: boolean;
  public_ip: string | null;
  credentials: Array<{ username: string; password: string; scope: "modem" | "node" | "fleet" }>;
}

/** One entry per modem with its port and the credentials valid on it (modem-scoped, node-wide and fleet-wide). */
export async function listProxies(sql: Sql, f: { nodeId?: string | null; modemId?: number } = {}): Promise<ProxyRow[]> {
  return (await sql`
    select m.id as modem_id, m.node_id, m.slot, m.imei, m.state, m.proxy_port as port, m.proxy_enabled as enabled,
           host(m.public_ip) as public_ip,
           coalesce((select json_agg(json_build_object('username', u.username, 'password', u.password,
                       'scope', case when u.modem_id is not null then 'modem' when u.node_id is not null then 'node' else 'fleet' end)
                       order by u.username)
                     from proxy_users u
                     where u.enabled and (u.modem_id = m.id or (u.modem_id is null and (u.node_id = m.node_id or u.node_id is null)))),
                    '[]'::json) as credentials
    from modems m
    where ${f.nodeId ? sql`m.node_id = ${f.nodeId}` : sql`true`}
      and ${f.modemId ? sql`m.id = ${f.modemId}` : sql`true`}
    order by m.node_id, m.slot nulls last, m.imei`) as unknown as ProxyRow[];
}

export interface NodeRow {
  id: string;
  hostname: string;
  version: string;
  started_at: Date;
  last_heartbeat: Date;
  info: Record<string, unknown>;
  modems: number;
}

export async function listNodes(sql: Sql): Promise<NodeRow[]> {
  return (await sql`
    select n.id, n.hostname, n.version, n.started_at, n.last_heartbeat, n.info,
           (select count(*)::int from modems m where m.node_id = n.id) as modems
    from nodes n order by n.id`) as unknown as NodeRow[];
}

export interface JobRunRow {
  job_id: string;
  node_id: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  result: string | null;
  error: string | null;
  runs: number;
}

/** The last run of every job seen in job_runs (used when the app passes no JobsView). */
export async function lastJobRuns(sql: Sql, nodeId: string | null): Promise<JobRunRow[]> {
  return (await sql`
    select distinct on (job_id, node_id) job_id, node_id, started_at, finished_at, duration_ms, result, error,
           count(*) over (partition by job_id, node_id)::int as runs
    from job_runs where ${nodeId ? sql`node_id = ${nodeId}` : sql`true`}
    order by job_id, node_id, started_at desc`) as unknown as JobRunRow[];
}
