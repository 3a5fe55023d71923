/**
 * Modem operations shared by the panel and the API: look the modem up, hand the request to the control plane
 * (ModemActions; 503 NOT_AVAILABLE until the app provides it) and write the audit log, success or not.
 */
import type { HttpEnv } from "../env.ts";
import type { ActionOptions, Actor, AtResult, ModemAction } from "../context.ts";
import { HttpError, notAvailable, notFound, toHttpError } from "../errors.ts";
import { writeAudit } from "../../db/queries/audit.ts";
import { modemDetail, parseModemRef, type ModemDetail } from "../queries/modem-rows.ts";
import { regenerateRotationToken, revokeRotationToken } from "../../db/queries/rotations.ts";

export async function loadModem(env: HttpEnv, ref: string | number): Promise<ModemDetail> {
  const parsed = typeof ref === "number" ? { id: ref } : parseModemRef(ref);
  if (!parsed) throw new HttpError(404, "NOT_FOUND", "modem not found (use its numeric id or IMEI)");
  const m = await modemDetail(env.ctx.sql, parsed);
  if (!m) throw notFound("modem");
  return m;
}

async function audit(env: HttpEnv, actor: Actor, action: string, target: string, result: string, details: Record<string, unknown> = {}): Promise<void> {
  await writeAudit(env.ctx.sql, { nodeId: env.ctx.nodeId, userId: actor.userId, actor: actor.username, action, target, result, ip: actor.ip, details: { via: actor.via, ...details } })
    .catch(() => undefined); // an audit failure (DB blip) must not turn a done action into an error
}

/** Runs `fn`, auditing the outcome; control-plane errors keep their code for the caller. */
async function audited<T>(env: HttpEnv, actor: Actor, action: string, target: string, details: Record<string, unknown>, fn: () => Promise<T>, describe?: (r: T) => Record<string, unknown>): Promise<T> {
  try {
    const r = await fn();
    await audit(env, actor, action, target, "ok", { ...details, ...(describe?.(r) ?? {}) });
    return r;
  } catch (error) {
    const mapped = toHttpError(error);
    await audit(env, actor, action, target, mapped?.code ?? "error", { ...details, error: (error as Error).message?.slice(0, 300) });
    throw error;
  }
}

export async function requestAction(env: HttpEnv, actor: Actor, modemId: number, action: ModemAction, opts: ActionOptions = {}): Promise<{ jobId: string }> {
  const m = await loadModem(env, modemId);
  const actions = env.ctx.actions;
  return audited(env, actor, `modem.${action}`, `modem:${m.id}`, { slot: m.slot, ...opts }, async () => {
    if (!actions) throw notAvailable("modem control");
    return actions.request(m.id, action, actor, opts);
  }, (r) => ({ jobId: r.jobId }));
}

/**
 * The modem layer owns the AT allow-list; this edge check only refuses what can never be one command:
 * line breaks and control characters (a second command after CR), `;` chaining, and absurd lengths.
 */
export function atCommandProblem(command: string): string | null {
  if (command.length === 0) return "empty command";
  if (command.length > 256) return "longer than 256 characters";
  if (/[\x00-\x1f\x7f]/.test(command)) return "control characters (CR/LF) are not allowed";
  if (command.includes(";")) return "';' chaining is not allowed: one command at a time";
  if (!/^AT/i.test(command)) return "must start with AT";
  return null;
}

/**
 * One console command. The control plane audits every command it is handed, run or refused by its allow-list
 * (`modem.console`, console-run.ts), so this layer writes a row only for what it refuses itself: those never reach
 * the modem layer, and one attempt must be one audit row.
 */
export async function runAt(env: HttpEnv, actor: Actor, modemId: number, command: string): Promise<AtResult> {
  const m = await loadModem(env, modemId);
  const problem = atCommandProblem(command);
  if (problem) {
    await audit(env, actor, "modem.console", m.imei, "refused", { command: command.slice(0, 1024), code: "AT_REJECTED", problem });
    throw new HttpError(422, "AT_REJECTED", `command refused: ${problem}`, { command: problem });
  }
  const actions = env.ctx.actions;
  if (!actions) throw notAvailable("the AT console");
  return actions.at(m.id, command, actor);
}

export async function sendSms(env: HttpEnv, actor: Actor, modemId: number, to: string, text: string): Promise<{ ok: boolean; jobId?: string; error?: string }> {
  const m = await loadModem(env, modemId);
  const sms = env.ctx.actions?.sms;
  return audited(env, actor, "modem.sms.send", `modem:${m.id}`, { to, length: text.length }, async () => {
    if (!sms) throw notAvailable("SMS sending");
    return sms.send(m.id, to, text, actor);
  }, (r) => ({ ok: r.ok }));
}

export async function sendUssd(env: HttpEnv, actor: Actor, modemId: number, code: string): Promise<{ ok: boolean; response: string }> {
  const m = await loadModem(env, modemId);
  const ussd = env.ctx.actions?.ussd;
  return audited(env, actor, "modem.ussd", `modem:${m.id}`, { code }, async () => {
    if (!ussd) throw notAvailable("USSD");
    return ussd.call(env.ctx.actions, m.id, code, actor);
  }, (r) => ({ ok: r.ok }));
}

/** New secure rotation link token (shown once); the old link stops working. */
export async function regenerateLink(env: HttpEnv, actor: Actor, modemId: number): Promise<string> {
  const m = await loadModem(env, modemId);
  return audited(env, actor, "modem.rotation_link.regenerate", `modem:${m.id}`, {}, async () => {
    const viaControlPlane = env.ctx.actions?.rotationToken;
    const token = viaControlPlane ? await viaControlPlane.call(env.ctx.actions, m.id, actor) : await regenerateRotationToken(env.ctx.sql, m.id);
    if (!token) throw notFound("modem");
    return token;
  });
}

export async function revokeLink(env: HttpEnv, actor: Actor, modemId: number): Promise<void> {
  const m = await loadModem(env, modemId);
  await audited(env, actor, "modem.rotation_link.revoke", `modem:${m.id}`, {}, async () => {
    await revokeRotationToken(env.ctx.sql, m.id);
  });
}

/** The public URL of a rotation link: configured public_url, else the origin the request came in on. */
export function rotationLinkUrl(env: HttpEnv, request: Request, token: string): string {
  const base = env.ctx.config.http.public_url || new URL(request.url).origin;
  return `${base.replace(/\/+$/, "")}/api/v1/rotate/${token}`;
}
