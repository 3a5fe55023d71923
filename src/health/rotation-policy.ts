/**
 * The pure rules of IP rotation: the escalation ladder of methods and the unique-IP verdict.
 *
 * Methods, mildest first: `data` restarts the data call (seconds; many carriers hand back the same CGNAT address),
 * `airplane` is AT+CFUN=4, a hold of at least 5 s, AT+CFUN=1 (shorter holds often re-register with the same IP,
 * ec25.md §6), `reboot` is AT+CFUN=1,1 (20-30 s, the strongest reset a modem offers).
 */
import type { RotationMethod, RotationResult } from "../db/queries/rotations.ts";

export const ROTATION_METHODS: readonly RotationMethod[] = ["data", "airplane", "reboot"];

export function isRotationMethod(x: unknown): x is RotationMethod {
  return typeof x === "string" && (ROTATION_METHODS as readonly string[]).includes(x);
}

/** The method of attempt `attempt` (1-based): every retry escalates one step, and stays at reboot. */
export function methodForAttempt(first: RotationMethod, attempt: number): RotationMethod {
  const i = ROTATION_METHODS.indexOf(first) + Math.max(0, attempt - 1);
  return ROTATION_METHODS[Math.min(i, ROTATION_METHODS.length - 1)]!;
}

/**
 * Why a new public IP is not acceptable, or "ok":
 *   same    the address the modem had before this rotation
 *   recent  one of the modem's last N addresses
 *   taken   another modem's current public address (two ports would look like one client)
 */
export type IpVerdict = "ok" | "same" | "recent" | "taken";

export function judgeIp(ip: string, ctx: { oldIp: string | null; history: readonly string[]; others: ReadonlySet<string> }): IpVerdict {
  if (ctx.oldIp && ip === ctx.oldIp) return "same";
  if (ctx.history.includes(ip)) return "recent";
  if (ctx.others.has(ip)) return "taken";
  return "ok";
}

export interface AttemptOutcome {
  attempt: number;
  method: RotationMethod;
  /** The public IP the modem came back with; null when the attempt failed before that. */
  ip: string | null;
  verdict: IpVerdict | null;
  error: string | null;
  ms: number;
}

/** The job's result from its attempts: OK on a unique IP, COLLISION when the last IP was not, else FAILED. */
export function rotationResult(attempts: readonly AttemptOutcome[], cancelled = false): RotationResult {
  const last = attempts[attempts.length - 1];
  if (last?.verdict === "ok") return "OK";
  if (cancelled) return "CANCELLED";
  if (last?.ip) return "COLLISION";
  return "FAILED";
}

/** One line for rotations.error: what went wrong on each attempt. */
export function describeAttempts(attempts: readonly AttemptOutcome[]): string | null {
  const bad = attempts.filter((a) => a.verdict !== "ok");
  if (!bad.length) return null;
  return bad.map((a) => `#${a.attempt} ${a.method}: ${a.error ?? (a.verdict === "same" ? `same IP ${a.ip}` : a.verdict === "recent" ? `recent IP ${a.ip}` : `IP ${a.ip} in use by another modem`)}`).join("; ");
}
