/** Acknowledge / resolve alerts (panel and API), audited. */
import type { HttpEnv } from "../env.ts";
import type { Actor } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import { acknowledgeAlert, getAlert, resolveAlert, type AlertRow } from "../../db/queries/alerts.ts";
import { writeAudit } from "../../db/queries/audit.ts";

export async function ackAlert(env: HttpEnv, actor: Actor, id: number): Promise<AlertRow> {
  const r = await acknowledgeAlert(env.ctx.sql, id, actor.username);
  if (r === "missing") throw notFound("alert");
  if (r === "resolved") throw conflict("the alert is already resolved", "ALERT_RESOLVED");
  if (r === "already") throw conflict("the alert is already acknowledged", "ALERT_ACKNOWLEDGED");
  await writeAudit(env.ctx.sql, { nodeId: env.ctx.nodeId, userId: actor.userId, actor: actor.username, action: "alert.ack", target: `alert:${id}`, ip: actor.ip });
  return (await getAlert(env.ctx.sql, id))!;
}

export async function resolveAlertOp(env: HttpEnv, actor: Actor, id: number): Promise<AlertRow> {
  const r = await resolveAlert(env.ctx.sql, id);
  if (r === "missing") throw notFound("alert");
  if (r === "resolved") throw conflict("the alert is already resolved", "ALERT_RESOLVED");
  await writeAudit(env.ctx.sql, { nodeId: env.ctx.nodeId, userId: actor.userId, actor: actor.username, action: "alert.resolve", target: `alert:${id}`, ip: actor.ip });
  return (await getAlert(env.ctx.sql, id))!;
}
