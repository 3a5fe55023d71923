/**
 * The panel's and API's modem actions, carried out by this node's control plane. Every request is a job with an id:
 * `action.requested` then `action.done` rows in modem_events (status = the latest of them), so progress reaches the
 * panel over SSE like any other change.
 *
 * Only modems of this node are acted on (WRONG_NODE otherwise): fleet-actions.ts forwards another node's modems to
 * that node through the event stream. app.ts wraps these with routeRotations (src/health/rotation-actions.ts):
 * `rotate` becomes a rotation job with the unique-IP guarantee; the plain airplane toggle below is what `rotate` does
 * without that wrapper. SMS sending and USSD run synchronously (the panel waits for the answer) but are recorded as
 * jobs too, so every node's event log shows who did what (sms-actions.ts).
 */
import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client.ts";
import { appendEvent } from "../db/queries/events.ts";
import type { ModemManager } from "../modem/manager.ts";
import type { ModemActions, ModemAction, Actor, JobStatus } from "../http/context.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import { createSmsActions } from "./sms-actions.ts";

const log = childLogger("actions");

/** Airplane hold: shorter radio-off periods often re-register with the same IP (ec25.md §6). */
const AIRPLANE_HOLD_MS = 5_000;

export function createModemActions(opts: { sql: Sql; nodeId: string; manager: ModemManager; airplaneHoldMs?: number; ussdTimeoutMs?: number }): ModemActions {
  const { sql, nodeId, manager } = opts;
  const running = new Map<number, string>();

  async function modemRow(modemId: number) {
    const rows = await sql`select id, imei, node_id from modems where id = ${modemId}`;
    const row = rows[0];
    if (!row) throw new AppError("NOT_FOUND", `no modem ${modemId}`);
    if (row.node_id !== nodeId) throw new AppError("WRONG_NODE", `modem ${modemId} belongs to node ${row.node_id}; act on it from that node`);
    return row as { id: number; imei: string };
  }

  async function perform(modemId: number, action: ModemAction): Promise<Record<string, unknown>> {
    switch (action) {
      case "reconnect":
        // online → searching makes the router stop the session; the next poll re-registers and it comes back up on
        // the same port (going straight to `registered` would try to start a call that is still up)
        await manager.setState(modemId, "searching", "reconnect requested");
        return {};
      case "rotate":
      case "airplane": {
        const driver = manager.driver(modemId);
        await manager.setState(modemId, "rotating", `${action}: radio off`);
        await driver.setRadio("airplane");
        await Bun.sleep(opts.airplaneHoldMs ?? AIRPLANE_HOLD_MS);
        await driver.setRadio("on");
        await manager.setState(modemId, "searching", `${action}: radio back on`);
        return { holdMs: opts.airplaneHoldMs ?? AIRPLANE_HOLD_MS };
      }
      case "reboot":
        await manager.driver(modemId).reboot();
        return {};
      case "enable-proxy":
      case "disable-proxy": {
        const enabled = action === "enable-proxy";
        await sql`update modems set proxy_enabled = ${enabled}, updated_at = now() where id = ${modemId}`;
        await appendEvent(sql, { nodeId, modemId, kind: "proxy.settings", payload: { proxy_enabled: enabled } });
        return { proxy_enabled: enabled };
      }
    }
  }

  const smsUssd = createSmsActions({ sql, nodeId, manager, modemRow, ussdTimeoutMs: opts.ussdTimeoutMs });

  return {
    sms: smsUssd.sms,
    ussd: smsUssd.ussd,
    async request(modemId, action, actor: Actor) {
      await modemRow(modemId);
      const current = running.get(modemId);
      if (current && (action === "rotate" || action === "airplane" || action === "reboot" || action === "reconnect")) {
        // a second request while one runs joins it instead of starting another radio cycle
        return { jobId: current };
      }
      const jobId = randomUUID();
      running.set(modemId, jobId);
      await appendEvent(sql, { nodeId, modemId, kind: "action.requested", payload: { jobId, action, actor: actor.username, via: actor.via } });
      void (async () => {
        let result = "OK";
        let detail: Record<string, unknown> = {};
        try {
          detail = await perform(modemId, action);
        } catch (error) {
          result = "FAILED";
          detail = { error: (error as Error).message, code: (error as AppError).code };
          log.warn({ modemId, action, err: (error as Error).message }, "modem action failed");
        } finally {
          if (running.get(modemId) === jobId) running.delete(modemId);
        }
        await appendEvent(sql, { nodeId, modemId, kind: "action.done", payload: { jobId, action, result, ...detail } }).catch(() => undefined);
      })();
      return { jobId };
    },
    async at(modemId, command, actor) {
      const row = await modemRow(modemId);
      const reply = await manager.runConsole(row.imei, command, {
        actor: actor.username, userId: actor.userId, ip: actor.ip, control: actor.role === "admin",
      });
      return { ok: reply.ok, lines: reply.lines, final: reply.final };
    },
    async job(jobId): Promise<JobStatus | null> {
      const rows = await sql`
        select modem_id, kind, payload from modem_events
        where kind in ('action.requested', 'action.done') and payload->>'jobId' = ${jobId} order by seq`;
      if (!rows.length) return null;
      const last = rows[rows.length - 1]!;
      const payload = last.payload as Record<string, unknown>;
      return {
        jobId, modemId: last.modem_id as number, action: String(payload.action),
        status: last.kind === "action.done" ? "done" : "running",
        result: last.kind === "action.done" ? String(payload.result) : null,
        detail: payload,
      };
    },
  };
}
