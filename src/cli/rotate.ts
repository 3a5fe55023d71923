/**
 * `lteproxy rotate <imei|slot|all> [--method data|airplane|reboot] [--wait] [--json]`
 *
 * Rotation needs the running control plane (it owns the modems and the data plane): the request travels through
 * PostgreSQL (src/health/rotation-requests.ts) and each modem gets a job, or joins the one it already has. With
 * --wait the command follows the jobs in `rotations` and prints, per modem, the old IP, the new IP, the result and
 * the duration. Exit status: 0 when every job was accepted (and, with --wait, ended OK), 1 otherwise.
 */
import os from "node:os";
import type { Sql } from "../db/client.ts";
import { findNodeModem, listModemRows, tryLockNodeModems } from "../db/queries/modem-state.ts";
import type { RotationMethod } from "../db/queries/rotations.ts";
import { AppError } from "../lib/errors.ts";
import { isRotationMethod } from "../health/rotation-policy.ts";
import { requestRotations, type RotationTicket } from "../health/rotation-requests.ts";
import { intFlag, parseArgs, strFlag } from "./args.ts";

export const ROTATE_USAGE = `lteproxy rotate <imei|slot|all> [...] [--method data|airplane|reboot] [--wait] [--timeout S] [--json] [--config FILE]

Rotates the public IP of one or more modems (or every online modem with 'all') through the running control plane.
The new IP must differ from the modem's last IPs and from every other modem's IP; otherwise the rotation retries
with a stronger method and ends COLLISION when it runs out of attempts.
  --method   data (restart the data call), airplane (default: radio off for 5 s), reboot
  --wait     wait for the results and print old IP, new IP, result and duration per modem (--timeout, default 600 s)
  --json     machine-readable output`;

export interface RotateCliDeps {
  sql: Sql;
  nodeId: string;
  print?: (text: string) => void;
  /** Default cli:<user>. */
  actor?: string;
  /** How long to wait for the control plane to accept (default 15 s). */
  replyTimeoutMs?: number;
  pollMs?: number;
}

interface Target {
  modemId: number;
  imei: string;
  slot: string | null;
}

export interface RotateOutcome {
  modem_id: number;
  imei: string;
  slot: string | null;
  job_id: string | null;
  joined: boolean;
  status: string;
  result: string | null;
  method: string | null;
  old_ip: string | null;
  new_ip: string | null;
  attempts: number | null;
  duration_ms: number | null;
  error: string | null;
}

async function resolveTargets(deps: RotateCliDeps, names: string[]): Promise<{ targets: Target[]; skipped: RotateOutcome[] }> {
  if (names.length === 1 && names[0] === "all") {
    const rows = await listModemRows(deps.sql, deps.nodeId);
    const live = rows.filter((r) => r.state === "online" || r.state === "degraded");
    const skipped = rows.filter((r) => !live.includes(r)).map((r) => outcome({ modemId: r.id, imei: r.imei, slot: r.slot }, {
      status: "skipped", error: `modem is ${r.state}`,
    }));
    return { targets: live.map((r) => ({ modemId: r.id, imei: r.imei, slot: r.slot })), skipped };
  }
  const targets: Target[] = [];
  for (const name of names) {
    const row = await findNodeModem(deps.sql, deps.nodeId, name);
    if (!row) throw new AppError("MODEM_NOT_FOUND", `no modem ${JSON.stringify(name)} on node ${deps.nodeId} (try 'lteproxy modems')`);
    if (!targets.some((t) => t.modemId === row.id)) targets.push({ modemId: row.id, imei: row.imei, slot: row.slot });
  }
  return { targets, skipped: [] };
}

function outcome(t: Target, o: Partial<RotateOutcome>): RotateOutcome {
  return {
    modem_id: t.modemId, imei: t.imei, slot: t.slot, job_id: null, joined: false, status: "rejected", result: null, method: null,
    old_ip: null, new_ip: null, attempts: null, duration_ms: null, error: null, ...o,
  };
}

/** Follows the jobs in `rotations` until every one is done or the deadline passes. */
async function follow(deps: RotateCliDeps, outcomes: RotateOutcome[], timeoutMs: number): Promise<void> {
  const ids = outcomes.map((o) => o.job_id).filter((x): x is string => !!x);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = ids.length ? await deps.sql`
      select job_id::text as job_id, status, result, method, host(old_ip) as old_ip, host(new_ip) as new_ip, attempts,
             duration_ms, error
      from rotations where job_id = any(${ids}::uuid[])` : [];
    for (const r of rows) {
      const o = outcomes.find((x) => x.job_id === r.job_id);
      if (o) Object.assign(o, { status: r.status, result: r.result, method: r.method, old_ip: r.old_ip, new_ip: r.new_ip, attempts: r.attempts, duration_ms: r.duration_ms, error: r.error });
    }
    if (outcomes.every((o) => !o.job_id || o.status === "done")) return;
    if (Date.now() >= deadline) return;
    await Bun.sleep(deps.pollMs ?? 250);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

function seconds(ms: number | null): string {
  return ms === null ? "-" : `${(ms / 1000).toFixed(1)} s`;
}

export async function rotateCommand(argv: string[], deps: RotateCliDeps): Promise<number> {
  const print = deps.print ?? ((t: string) => console.log(t));
  const args = parseArgs(argv, { values: ["method", "timeout", "config"], booleans: ["wait", "json"] });
  if (args.flags.help) {
    print(ROTATE_USAGE);
    return 0;
  }
  if (!args.positionals.length) throw new AppError("CLI_USAGE", `which modem? give an IMEI, a slot or 'all'\n\n${ROTATE_USAGE}`);
  if (args.positionals.includes("all") && args.positionals.length > 1) throw new AppError("CLI_USAGE", "'all' cannot be combined with other modems");
  const rawMethod = strFlag(args, "method");
  if (rawMethod !== undefined && !isRotationMethod(rawMethod)) {
    throw new AppError("CLI_USAGE", `--method = ${JSON.stringify(rawMethod)}: expected data, airplane or reboot`);
  }
  const method: RotationMethod | null = rawMethod ?? null;
  const waitMs = intFlag(args, "timeout", 600, 1, 86_400) * 1000;

  const { targets, skipped } = await resolveTargets(deps, args.positionals);
  // The control plane holds the node's modem lock; if we can take it, nothing runs that could rotate.
  const lock = await tryLockNodeModems(deps.sql, deps.nodeId);
  if (lock) {
    await lock.release();
    throw new AppError("NO_CONTROL_PLANE", `no control plane runs for node ${deps.nodeId}: rotation needs 'lteproxy serve' (it owns the modems and the data plane)`);
  }
  const outcomes: RotateOutcome[] = [];
  if (targets.length) {
    const reply = await requestRotations(deps.sql, deps.nodeId, {
      modemIds: targets.map((t) => t.modemId), method, actor: deps.actor ?? `cli:${os.userInfo().username}`,
    }, { timeoutMs: deps.replyTimeoutMs, pollMs: deps.pollMs });
    for (const t of targets) {
      const ticket: RotationTicket | undefined = reply.jobs.find((j) => j.modemId === t.modemId);
      if (!ticket) outcomes.push(outcome(t, { error: "no answer for this modem" }));
      else if ("jobId" in ticket) outcomes.push(outcome(t, { job_id: ticket.jobId, joined: ticket.joined, status: "queued" }));
      else outcomes.push(outcome(t, { error: `${ticket.code}: ${ticket.message}` }));
    }
    if (args.flags.wait) await follow(deps, outcomes, waitMs);
  }
  const all = [...outcomes, ...skipped];
  if (args.flags.json) {
    print(JSON.stringify(all, null, 2));
  } else if (args.flags.wait) {
    print(table([["SLOT", "IMEI", "OLD IP", "NEW IP", "RESULT", "ATTEMPTS", "DURATION"], ...all.map((o) => [
      o.slot ?? "-", o.imei, o.old_ip ?? "-", o.new_ip ?? "-",
      o.result ?? (o.job_id ? `${o.status} (timed out waiting)` : `${o.status}: ${o.error}`), o.attempts === null ? "-" : String(o.attempts), seconds(o.duration_ms),
    ])]));
  } else {
    print(all.map((o) => `${o.slot ?? o.imei}: ${o.job_id ? `job ${o.job_id}${o.joined ? " (joined the running rotation)" : ""}` : `${o.status}: ${o.error}`}`).join("\n"));
  }
  const good = args.flags.wait ? outcomes.every((o) => o.result === "OK") : outcomes.every((o) => o.job_id);
  return good && outcomes.length > 0 ? 0 : 1;
}
