/**
 * `lteproxy proxies [--json]`: what a user wires into a tool, per modem: host, port, protocols, credentials
 * (or whitelist-only), state and public IP. Read from PostgreSQL.
 */
import type { Sql } from "../db/client.ts";

export interface ProxyListing {
  imei: string;
  slot: string | null;
  host: string;
  port: number;
  protocols: string[];
  username: string | null;
  password: string | null;
  state: string;
  public_ip: string | null;
  url_http: string | null;
  url_socks5: string | null;
}

export async function listProxies(sql: Sql, nodeId: string, host: string): Promise<ProxyListing[]> {
  const rows = await sql`
    select m.imei, m.slot, m.proxy_port as port, m.state, host(m.public_ip) as public_ip, m.proxy_enabled,
           u.username, u.password
    from modems m
    left join lateral (
      select username, password from proxy_users p
      where p.enabled and (p.modem_id = m.id or (p.modem_id is null and (p.node_id = m.node_id or p.node_id is null)))
      order by p.modem_id nulls last, p.id limit 1
    ) u on true
    where m.node_id = ${nodeId} and m.proxy_port is not null
    order by m.proxy_port`;
  return rows.map((r) => {
    const cred = r.username ? `${encodeURIComponent(r.username as string)}:${encodeURIComponent(r.password as string)}@` : "";
    return {
      imei: r.imei as string,
      slot: r.slot as string | null,
      host,
      port: r.port as number,
      protocols: ["http", "socks5"],
      username: (r.username as string | null) ?? null,
      password: (r.password as string | null) ?? null,
      state: r.proxy_enabled ? (r.state as string) : "disabled",
      public_ip: (r.public_ip as string | null) ?? null,
      url_http: `http://${cred}${host}:${r.port}`,
      url_socks5: `socks5h://${cred}${host}:${r.port}`,
    };
  });
}

/**
 * The demo's table, once it is true for this run: every modem has its port and is online, and (with a public-IP
 * probe configured) each has a `data.public_ip` event since `since`. The demo's database outlives a run, so until
 * then the rows still say what the last run saw (its public IPs). Null while that is not yet so.
 */
export async function proxyTableIfReady(
  sql: Sql,
  opts: { nodeId: string; host: string; modems: number; since: Date; probed: boolean },
): Promise<ProxyListing[] | null> {
  const list = await listProxies(sql, opts.nodeId, opts.host);
  if (list.length < opts.modems || !list.every((p) => p.state === "online")) return null;
  if (!opts.probed) return list;
  const [row] = await sql`
    select count(distinct modem_id)::int as n from modem_events
    where kind = 'data.public_ip' and node_id = ${opts.nodeId} and created_at >= ${opts.since}`;
  return Number(row!.n) >= opts.modems ? list : null;
}

export function formatProxies(list: ProxyListing[]): string {
  if (list.length === 0) return "no proxy ports yet (modems get a port when they register)";
  const rows = list.map((p) => [p.imei, `${p.host}:${p.port}`, p.protocols.join("+"), p.username ?? "(whitelist only)",
    p.password ?? "", p.state, p.public_ip ?? "-"]);
  const head = ["IMEI", "HOST:PORT", "PROTOCOLS", "USERNAME", "PASSWORD", "STATE", "PUBLIC IP"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [fmt(head), ...rows.map(fmt)].join("\n");
}
