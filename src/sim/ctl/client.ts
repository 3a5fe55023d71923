/**
 * `lteproxy sim ctl [--socket P | --lab ID | --url U] <slot|imei|index|all> <action> [args…]` and
 * `lteproxy sim ctl list [--json]`: talks to a running lab's control API (server.ts).
 */
import { AppError } from "../../lib/errors.ts";
import { isAlive, readRecords } from "../registry.ts";
import { ACTION_NAMES, type ActionResult } from "./actions.ts";

export const CTL_HELP = `Usage: lteproxy sim ctl [--socket PATH | --lab ID | --url URL] <target> <action> [args...]
       lteproxy sim ctl [--socket PATH | --lab ID | --url URL] list [--json]

Targets: all | <slot> (e.g. pci-0000_00_14_0-usb-0_1_3_1_2) | <imei> | <index> (0-based)
Actions: hang, wedge, slow <ms>, garbage, clear, unplug, replug, reboot, crash, usb-reset,
         no-service, service, no-sim, sim, sticky <0..1>, signal <rsrp dBm>, temp <celsius>, operator <name>,
         cme <command> <code|off>, sms <from> <text>, ussd-reply <text>, urc <line>,
         link-down, link-up, hub-fail <hub>, hub-restore <hub>
The lab is found through --socket, --lab, $LTEPROXY_SIM_CTL, or the only running lab.
`;

interface Endpoint {
  unix?: string;
  base: string;
}

function findEndpoint(opts: { socket?: string; lab?: string; url?: string }): Endpoint {
  if (opts.url) return { base: opts.url.replace(/\/$/, "") };
  const socket = opts.socket ?? (opts.lab ? undefined : process.env.LTEPROXY_SIM_CTL);
  if (socket) return { unix: socket, base: "http://sim" };
  // Labs started by tests without a control API are not candidates.
  const live = readRecords().filter((r) => isAlive(r) && (r.ctlSocket || r.ctlPort) && (!opts.lab || r.labId === opts.lab));
  if (live.length === 0) throw new AppError("SIM_NO_LAB", opts.lab ? `no running lab ${opts.lab} with a control API` : "no running lab (start one with `lteproxy sim`)");
  if (live.length > 1) throw new AppError("SIM_MANY_LABS", `several labs run (${live.map((r) => r.labId).join(", ")}); pick one with --lab`);
  const rec = live[0]!;
  return rec.ctlSocket ? { unix: rec.ctlSocket, base: "http://sim" } : { base: `http://127.0.0.1:${rec.ctlPort}` };
}

async function call(ep: Endpoint, path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit & { unix?: string } = body === undefined
    ? { method: "GET" }
    : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  if (ep.unix) init.unix = ep.unix;
  let res: Response;
  try {
    res = await fetch(`${ep.base}${path}`, init);
  } catch (error) {
    throw new AppError("SIM_CTL_UNREACHABLE", `cannot reach the lab control API (${ep.unix ?? ep.base}): ${String(error)}`);
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) throw new AppError(json.error?.code ?? "SIM_CTL_FAILED", json.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function table(modems: Record<string, unknown>[]): string {
  const cols = ["slot", "imei", "state", "operator", "rsrp", "tty", "private_ip", "public_ip"];
  const rows = modems.map((m) => cols.map((c) => (m[c] === null || m[c] === undefined ? "-" : String(m[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map(line)].join("\n") + "\n";
}

/** Entry point of `sim ctl`; returns the exit status. */
export async function ctlCommand(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  const opts: { socket?: string; lab?: string; url?: string } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(socket|lab|url)(?:=(.*))?$/.exec(a);
    if (m) { opts[m[1] as "socket"] = m[2] ?? argv[++i]; continue; }
    if (a === "-h" || a === "--help") { out.write(CTL_HELP); return 0; }
    break;
  }
  const rest = argv.slice(i);
  try {
    if (rest[0] === "list") {
      const json = rest.includes("--json");
      const { modems } = (await call(findEndpoint(opts), "/v1/modems")) as { modems: Record<string, unknown>[] };
      out.write(json ? `${JSON.stringify(modems, null, 2)}\n` : table(modems));
      return 0;
    }
    const [target, action, ...args] = rest;
    if (!target || !action) {
      err.write(`error: need <target> <action>\n\n${CTL_HELP}`);
      return 2;
    }
    if (!ACTION_NAMES.includes(action)) {
      err.write(`error: unknown action ${JSON.stringify(action)}\n\n${CTL_HELP}`);
      return 2;
    }
    const result = (await call(findEndpoint(opts), "/v1/ctl", { target, action, args })) as ActionResult;
    let failed = 0;
    for (const t of result.targets) {
      if (t.ok) out.write(`ok    ${action} ${t.slot}${t.detail === undefined ? "" : ` ${JSON.stringify(t.detail)}`}\n`);
      else { failed++; out.write(`FAIL  ${action} ${t.slot}: ${t.error}\n`); }
    }
    return failed > 0 ? 1 : 0;
  } catch (error) {
    const code = error instanceof AppError ? error.code : "SIM_CTL_FAILED";
    err.write(`error: ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
