/** nodes: one row per appliance sharing this database. */
import type { Sql } from "../client.ts";

export async function registerNode(sql: Sql, node: { id: string; hostname: string; version: string }): Promise<void> {
  await sql`
    insert into nodes (id, hostname, version, started_at, last_heartbeat)
    values (${node.id}, ${node.hostname}, ${node.version}, now(), now())
    on conflict (id) do update set hostname = excluded.hostname, version = excluded.version,
      started_at = now(), last_heartbeat = now()`;
}

export async function heartbeat(sql: Sql, nodeId: string, info: Record<string, unknown> = {}): Promise<void> {
  await sql`update nodes set last_heartbeat = now(), info = ${sql.json(info as never)} where id = ${nodeId}`;
}
