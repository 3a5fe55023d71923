/**
 * SMS sending and USSD for the panel and API (ModemActions.sms.send / .ussd), on a modem of this node.
 * Both answer synchronously (the panel shows the result) and are recorded as jobs: `action.requested` then
 * `action.done` in modem_events with the actor, so GET /api/v1/jobs/{id} and the event log work from any node.
 * Sent and failed messages get an 'out' row in sms_messages (storeOutgoingSms).
 *
 * Errors, as codes the HTTP layer maps (src/http/errors.ts):
 *   MODEM_OFFLINE (409)     port not open, no usable SIM, not registered (checked before, and from the answer)
 *   MODEM_BUSY (409)        a USSD session is already open on this modem
 *   INVALID_ARGUMENT (422)  recipient/text/code the modem cannot take (text mode: 1-160 characters)
 *   AT_TIMEOUT / MODEM_TIMEOUT (504)  no answer from the modem / no +CUSD from the network
 * A send the modem or network refused (+CMS ERROR 330/331/332/350/500, ec25.md §3.3) is not thrown: it returns
 * { ok: false, error } and stores a 'failed' row, since the attempt happened.
 */
import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client.ts";
import { appendEvent } from "../db/queries/events.ts";
import { storeOutgoingSms } from "../db/queries/sms.ts";
import type { ModemManager } from "../modem/manager.ts";
import type { Actor, ModemActions } from "../http/context.ts";
import { AppError, hasCode } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("actions");

/** Text mode sends one SMS of up to 160 GSM characters; concatenated SMS would need PDU mode. */
export const SMS_MAX_TEXT = 160;
const USSD_TIMEOUT_MS = 30_000;

const NO_SIM = new Set(["SIM_NOT_INSERTED", "SIM_FAILURE", "SIM_PIN_REQUIRED", "SIM_PUK_REQUIRED", "SIM_BUSY", "SIM_WRONG"]);
const NO_NETWORK = new Set(["NO_NETWORK_SERVICE", "EMERGENCY_CALLS_ONLY"]);

interface Deps {
  sql: Sql;
  nodeId: string;
  manager: ModemManager;
  /** Looks the modem up and refuses other nodes' modems (modem-actions.ts). */
  modemRow(modemId: number): Promise<{ id: number; imei: string }>;
  ussdTimeoutMs?: number;
}

/** The modem's error code of an AT_COMMAND_FAILED, else null. */
function modemCode(e: unknown): string | null {
  if (!(e instanceof AppError) || e.code !== "AT_COMMAND_FAILED") return null;
  const c = (e.details as { modemCode?: unknown } | undefined)?.modemCode;
  return typeof c === "string" ? c : null;
}

/** Translates driver errors into the codes above; null when the error is a refusal to report as { ok: false }. */
export function mapModemError(e: unknown, modemId: number): AppError | null {
  const code = modemCode(e);
  if (code && NO_SIM.has(code)) return new AppError("MODEM_OFFLINE", `modem ${modemId} has no usable SIM (${code})`, { reason: code });
  if (code && NO_NETWORK.has(code)) return new AppError("MODEM_OFFLINE", `modem ${modemId} is not registered on a network (${code})`, { reason: code });
  if (code) return null;
  if (hasCode(e, "MODEM_NOT_PRESENT") || hasCode(e, "AT_UNPLUGGED") || hasCode(e, "AT_CLOSED")) {
    return new AppError("MODEM_OFFLINE", `modem ${modemId}'s AT port is not open`, { reason: (e as AppError).code });
  }
  if (hasCode(e, "MODEM_BAD_ARGUMENT")) return new AppError("INVALID_ARGUMENT", (e as Error).message);
  if (hasCode(e, "USSD_TIMEOUT")) return new AppError("MODEM_TIMEOUT", (e as Error).message);
  if (e instanceof AppError) return e;
  return new AppError("MODEM_FAILED", e instanceof Error ? e.message : String(e));
}

export function createSmsActions(deps: Deps): Required<Pick<ModemActions, "sms" | "ussd">> {
  const { sql, nodeId, manager } = deps;
  const ussdOpen = new Set<number>();

  /** Refuses early what the last poll already knows: port closed, SIM missing, not registered. */
  function precheck(modemId: number): void {
    try {
      manager.driver(modemId);
    } catch (e) {
      throw mapModemError(e, modemId) ?? e;
    }
    const status = manager.get(modemId)?.status;
    if (!status) return;
    if (status.sim !== "READY") throw new AppError("MODEM_OFFLINE", `modem ${modemId} has no usable SIM (${status.sim})`, { reason: status.sim });
    if (status.registration && !status.registration.registered) {
      throw new AppError("MODEM_OFFLINE", `modem ${modemId} is not registered on a network (${status.registration.status})`, { reason: "NOT_REGISTERED" });
    }
  }

  async function job<T extends Record<string, unknown>>(modemId: number, action: string, actor: Actor, extra: Record<string, unknown>,
    fn: (jobId: string) => Promise<T>): Promise<T & { jobId: string }> {
    const jobId = randomUUID();
    await appendEvent(sql, { nodeId, modemId, kind: "action.requested", payload: { jobId, action, actor: actor.username, via: actor.via, ...extra } });
    let result: T | undefined;
    let failure: AppError | undefined;
    try {
      result = await fn(jobId);
    } catch (e) {
      failure = e instanceof AppError ? e : new AppError("MODEM_FAILED", String(e));
    }
    const ok = result ? result.ok !== false : false;
    const payload = failure
      ? { jobId, action, result: "FAILED", code: failure.code, error: failure.message }
      : { jobId, action, result: ok ? "OK" : "FAILED", ...(ok ? {} : { error: String(result!.error ?? "") }) };
    await appendEvent(sql, { nodeId, modemId, kind: "action.done", payload }).catch((e) => log.warn({ err: String(e), jobId }, "could not store action.done"));
    if (failure) throw failure;
    return { ...result!, jobId };
  }

  return {
    sms: {
      async send(modemId, to, text, actor) {
        await deps.modemRow(modemId);
        if (typeof to !== "string" || !/^\+?\d{3,20}$/.test(to)) throw new AppError("INVALID_ARGUMENT", "the recipient must be 3-20 digits with an optional leading +");
        if (typeof text !== "string" || text.length === 0 || text.length > SMS_MAX_TEXT) {
          throw new AppError("INVALID_ARGUMENT", `the text must be 1-${SMS_MAX_TEXT} characters (one SMS in text mode)`);
        }
        precheck(modemId);
        return job(modemId, "sms.send", actor, { length: text.length }, async (jobId) => {
          try {
            const { messageReference } = await manager.driver(modemId).sendSms(to, text);
            await storeOutgoingSms(sql, nodeId, { modemId, peer: to, body: text, status: "sent", jobId, messageReference });
            return { ok: true as boolean, error: undefined as string | undefined };
          } catch (e) {
            const mapped = mapModemError(e, modemId);
            const error = mapped ? mapped.message : `the modem refused the message: ${(e as Error).message}`;
            // The attempt reached the modem (or tried to): keep it in the sent log as failed.
            await storeOutgoingSms(sql, nodeId, { modemId, peer: to, body: text, status: "failed", jobId, error })
              .catch((err) => log.warn({ err: String(err), modemId }, "could not store the failed SMS"));
            if (mapped) throw mapped;
            return { ok: false, error };
          }
        });
      },
    },
    async ussd(modemId, code, actor) {
      await deps.modemRow(modemId);
      if (typeof code !== "string" || !/^[0-9*#+]{1,32}$/.test(code)) throw new AppError("INVALID_ARGUMENT", "a USSD code is digits, * and # (e.g. *100#)");
      precheck(modemId);
      if (ussdOpen.has(modemId)) throw new AppError("MODEM_BUSY", `a USSD request is already running on modem ${modemId}`);
      ussdOpen.add(modemId);
      try {
        const r = await job(modemId, "ussd", actor, { code }, async () => {
          const driver = manager.driver(modemId);
          let info;
          try {
            info = await driver.ussd(code, { timeoutMs: deps.ussdTimeoutMs ?? USSD_TIMEOUT_MS });
          } catch (e) {
            const mapped = mapModemError(e, modemId);
            if (mapped) throw mapped;
            return { ok: false, response: `the modem refused the request: ${(e as Error).message}`, error: (e as Error).message };
          }
          // m=1 "further action required" opens a menu the panel cannot answer: close the session (AT+CUSD=2).
          if (info.m === 1) await driver.channel.send("AT+CUSD=2").catch(() => undefined);
          const ok = info.m === 0 || info.m === 1 || info.m === 2;
          const response = info.text ?? `(no text; network status ${info.status})`;
          return { ok, response, ...(ok ? {} : { error: `network answered ${info.status}` }) };
        });
        return { ok: r.ok, response: r.response };
      } finally {
        ussdOpen.delete(modemId);
      }
    },
  };
}
