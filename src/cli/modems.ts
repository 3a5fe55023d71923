/**
 * `lteproxy modems [--json] [--all-nodes]` and `lteproxy at <imei|slot> '<command>'`.
 *
 * `at` goes through the running control plane when there is one (it owns the ports; console-requests.ts), and
 * otherwise opens the modem's port itself while holding the node's modem lock. Either way the console policy
 * applies and the attempt lands in audit_log. Root on the box may use the radio controls (AT+CFUN=1,1 …).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Sql } from "../db/client.ts";
import { findNodeModem, listModemRows, tryLockNodeModems, type ModemListRow } from "../db/queries/modem-state.ts";
import { AppError } from "../lib/errors.ts";
import { openAtChannel, type OpenAtChannelOptions } from "../modem/at/open-at-channel.ts";
import { requestAt, type AtReply } from "../modem/console-requests.ts";
import { runConsoleCommand } from "../modem/console-run.ts";
import { Ec25Driver } from "../modem/ec25.ts";
import { parseArgs, intFlag } from "./args.ts";

export const MODEMS_USAGE = `lteproxy modems [--json] [--all-nodes] [--config FILE]

Lists this node's modems from the database: slot, IMEI, state, operator, signal, WAN IP and proxy port.
--json prints an array of objects (slot, imei, iccid, state, operator, rsrp, csq, wan_ip, public_ip, port, ...).
--all-nodes lists every node sharing the database.`;

export const AT_USAGE = `lteproxy at <imei|slot|usb-device> '<command>' [--json] [--timeout SECONDS] [--config FILE]

Sends one AT command to one modem and prints its answer. Quote the command for the shell: 'AT+QENG="servingcell"'.
One command only: no ';' chaining, no CR/LF, no ATD/ATA/ATH; reads plus the radio controls (AT+CFUN=0|1|4|1,1,
AT+COPS=0|2, AT$QCRMCALL=1,1|0,1) are allowed, more through the 'console.allow' setting. Every attempt is audited.
With 'lteproxy serve' running the command goes through it; otherwise the port is opened directly.`;

export interface ModemsCliDeps {
  sql: Sql;
  /** This node (config node.id). */
  nodeId: string;
  print?: (text: string) => void;
}

export interface AtCliDeps extends ModemsCliDeps {
  /** LTEPROXY_DEVICE_DIR. */
  deviceDir: string;
  /** AT channel options for the direct path (tests shorten timeouts). */
  channel?: OpenAtChannelOptions;
  /** Audit actor; default cli:<user>. */
  actor?: string;
}

function signal(r: ModemListRow): string {
  const parts: string[] = [];
  if (r.rsrp !== null) parts.push(`${r.rsrp} dBm`);
  if (r.csq !== null) parts.push(`csq ${r.csq}`);
  return parts.join(" / ") || "-";
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

function bySlot(a: ModemListRow, b: ModemListRow): number {
  return a.node_id.localeCompare(b.node_id) || (a.slot ?? "~").localeCompare(b.slot ?? "~", "en", { numeric: true }) || a.imei.localeCompare(b.imei);
}

export async function modemsCommand(argv: string[], deps: ModemsCliDeps): Promise<number> {
  const print = deps.print ?? ((t: string) => console.log(t));
  const args = parseArgs(argv, { values: ["config"], booleans: ["json", "all-nodes"] });
  if (args.flags.help) {
    print(MODEMS_USAGE);
    return 0;
  }
  if (args.positionals.length) throw new AppError("CLI_USAGE", `unexpected argument ${JSON.stringify(args.positionals[0])}\n\n${MODEMS_USAGE}`);
  const rows = (await listModemRows(deps.sql, args.flags["all-nodes"] ? null : deps.nodeId)).sort(bySlot);
  if (args.flags.json) {
    print(JSON.stringify(rows.map((r) => ({
      id: r.id, node_id: r.node_id, slot: r.slot, usb_device: r.usb_device, imei: r.imei, iccid: r.iccid, state: r.state,
      state_reason: r.state_reason, operator: r.operator, operator_code: r.operator_code, rat: r.rat, band: r.band,
      csq: r.csq, rsrp: r.rsrp, rsrq: r.rsrq, sinr_raw: r.sinr_raw, temperature: r.temperature, wan_ip: r.wan_ip,
      public_ip: r.public_ip, port: r.port, route_table: r.route_table, state_since: r.state_since,
    })), null, 2));
    return 0;
  }
  if (rows.length === 0) {
    print(`no modems known on node ${deps.nodeId} (is lteproxy serve running, and are modems under the device dir?)`);
    return 0;
  }
  const all = !!args.flags["all-nodes"];
  const head = [...(all ? ["NODE"] : []), "SLOT", "IMEI", "STATE", "OPERATOR", "SIGNAL", "WAN IP", "PORT"];
  print(table([head, ...rows.map((r) => [
    ...(all ? [r.node_id] : []), r.slot ?? "-", r.imei, r.state, r.operator ?? r.operator_code ?? "-", signal(r),
    r.wan_ip ?? "-", r.port === null ? "-" : String(r.port),
  ])]));
  return 0;
}

function printReply(print: (t: string) => void, r: AtReply & { via: string }, json: boolean): void {
  if (json) print(JSON.stringify(r, null, 2));
  else print([...(r.lines ?? []), r.final ?? ""].join("\n"));
}

export async function atCommand(argv: string[], deps: AtCliDeps): Promise<number> {
  const print = deps.print ?? ((t: string) => console.log(t));
  const args = parseArgs(argv, { values: ["timeout", "config"], booleans: ["json"] });
  if (args.flags.help) {
    print(AT_USAGE);
    return 0;
  }
  if (args.positionals.length !== 2) throw new AppError("CLI_USAGE", `expected a modem and one command\n\n${AT_USAGE}`);
  const [target, command] = args.positionals as [string, string];
  // Without --timeout the engine's per-command table applies (CFUN 15 s, …); the wait for a reply is that plus slack.
  const timeoutMs = args.flags.timeout === undefined ? undefined : intFlag(args, "timeout", 30, 1, 600) * 1000;
  const actor = deps.actor ?? `cli:${os.userInfo().username}`;
  const json = !!args.flags.json;

  const lock = await tryLockNodeModems(deps.sql, deps.nodeId);
  if (!lock) {
    // A control plane holds this node's ports: ask it.
    const reply = await requestAt(deps.sql, deps.nodeId, { target, command, actor, control: true }, { timeoutMs: (timeoutMs ?? 30_000) + 5000 });
    if (reply.code) throw new AppError(reply.code, reply.message ?? reply.code);
    printReply(print, { ...reply, via: "control-plane" }, json);
    return reply.ok ? 0 : 1;
  }
  try {
    const reply = await direct(deps, target, command, actor, timeoutMs);
    printReply(print, { requestId: "", ...reply, via: "direct" }, json);
    return reply.ok ? 0 : 1;
  } finally {
    await lock.release();
  }
}

/** No control plane: find the slot, open its port, check the IMEI still matches, run the command. */
async function direct(deps: AtCliDeps, target: string, command: string, actor: string, timeoutMs: number | undefined) {
  const row = await findNodeModem(deps.sql, deps.nodeId, target);
  const slot = row?.slot ?? (fs.existsSync(path.join(deps.deviceDir, target, "at")) ? target : null);
  if (!slot) throw new AppError("MODEM_NOT_FOUND", `no modem ${JSON.stringify(target)} on node ${deps.nodeId} (try 'lteproxy modems')`);
  const atPath = path.join(deps.deviceDir, slot, "at");
  if (!fs.existsSync(atPath)) throw new AppError("MODEM_NOT_PRESENT", `modem ${row?.imei ?? target} is not plugged in (no ${atPath})`);
  const channel = await openAtChannel(atPath, { hangupPollMs: 100, ...deps.channel });
  try {
    await channel.init();
    const driver = new Ec25Driver(channel);
    if (row) {
      const imei = await driver.readImei();
      if (imei !== row.imei) throw new AppError("MODEM_MOVED", `slot ${slot} now holds IMEI ${imei}, not ${row.imei}; start lteproxy serve to re-map`);
    }
    return await runConsoleCommand({
      sql: deps.sql, nodeId: deps.nodeId, target, command, actor, control: true,
      send: (cmd) => driver.raw(cmd, { timeoutMs }),
    });
  } finally {
    await channel.close();
  }
}
