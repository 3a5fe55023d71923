/**
 * The AT console on real ports: policy refusals with clear errors, every attempt in audit_log, the admin's
 * `console.allow` setting, `lteproxy at` without a control plane (direct), and `lteproxy modems`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { atCommand, modemsCommand } from "../../../src/cli/modems.ts";
import type { ModemManager } from "../../../src/modem/manager.ts";
import type { SimLab } from "../../../src/sim/lab.ts";
import { startRig, TEST_CHANNEL, until, type Rig } from "./helpers.ts";

let rig: Rig;
let lab: SimLab;
let manager: ModemManager;

beforeAll(async () => {
  rig = await startRig();
  lab = await rig.startLab({ modems: 3, seed: 51 });
  manager = rig.newManager(lab.info);
  await manager.start();
  await until(() => manager.list().filter((m) => m.state === "registered").length === 3, "registered");
}, 30_000);
afterAll(async () => rig?.stop());

const imei = () => lab.modems[0]!.identity.imei;

async function audits() {
  return rig.sql`select actor, target, result, details from audit_log where action = 'modem.console' order by id`;
}

describe("console through the manager", () => {
  test.each([
    ["AT+CFUN=1,1;+CFUN=0", "CONSOLE_CHAINING", /chains several commands/],
    ["ATD*99#", "CONSOLE_DIAL", /dial/],
    ["AT+CSQ\r\nAT+CFUN=0", "CONSOLE_INJECTION", /CR, LF/],
    ["AT+CFUN=0", "CONSOLE_NOT_ALLOWED", /allow-list/],
  ])("refuses %p with %s and records the attempt", async (command, code, message) => {
    const n = (await audits()).length;
    const err = await manager.runConsole(imei(), command, { actor: "user:tech", ip: "192.0.2.7" }).catch((e) => e);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    const rows = await audits();
    expect(rows).toHaveLength(n + 1);
    expect(rows.at(-1)).toMatchObject({ actor: "user:tech", target: imei(), result: "refused", details: { command, code } });
    expect(manager.get(imei())!.state).toBe("registered"); // nothing reached the modem
  });

  test("an allowed read answers and is recorded", async () => {
    const r = await manager.runConsole(imei(), 'AT+QENG="servingcell"', { actor: "user:tech" });
    expect(r.ok).toBe(true);
    expect(r.lines[0]).toMatch(/^\+QENG: "servingcell","NOCONN","LTE"/);
    expect((await audits()).at(-1)).toMatchObject({ result: "ok", details: { command: 'AT+QENG="servingcell"', final: "OK" } });
  });

  test("an admin widens the allow-list through settings", async () => {
    expect((await manager.runConsole(imei(), "AT+CGATT?", { actor: "user:tech" })).ok).toBe(true);
    expect((await manager.runConsole(imei(), "AT+CCLK?", { actor: "user:tech" }).catch((e) => e)).code).toBe("CONSOLE_NOT_ALLOWED");
    await rig.sql`insert into settings (node_id, key, value) values ('', 'console.allow', ${rig.sql.json(["AT+CCLK?"])})`;
    const r = await manager.runConsole(imei(), "AT+CCLK?", { actor: "user:tech" });
    expect(r.lines[0]).toMatch(/^\+CCLK: "/);
  });

  test("an unknown or absent modem is a clear error, also audited", async () => {
    expect((await manager.runConsole("999999999999999", "AT+CSQ", { actor: "user:tech" }).catch((e) => e)).code).toBe("MODEM_NOT_FOUND");
    expect((await audits()).at(-1)).toMatchObject({ target: "999999999999999", result: "error", details: { code: "MODEM_NOT_FOUND" } });
  });
});

describe("lteproxy at without a control plane", () => {
  test("opens the port directly, checks the policy, audits; refusals never reach the modem", async () => {
    await manager.stop();
    const deps = { sql: rig.sql, nodeId: "node-a", deviceDir: lab.info.deviceDir, channel: TEST_CHANNEL, actor: "cli:root" };
    const out: string[] = [];
    expect(await atCommand([imei(), "AT+CSQ"], { ...deps, print: (t) => out.push(t) })).toBe(0);
    expect(out.join("\n")).toMatch(/^\+CSQ: \d+,99\nOK$/);
    // by slot too, with --json
    const slot = lab.modems[1]!.topology.slot;
    const json: string[] = [];
    expect(await atCommand([slot, "AT+CGSN", "--json"], { ...deps, print: (t) => json.push(t) })).toBe(0);
    expect(JSON.parse(json[0]!)).toMatchObject({ ok: true, via: "direct", lines: [lab.modems[1]!.identity.imei], final: "OK" });
    for (const [cmd, code] of [["AT+CFUN=1,1;+CFUN=0", "CONSOLE_CHAINING"], ["ATD*99#", "CONSOLE_DIAL"], ["AT+CSQ\nAT+CFUN=0", "CONSOLE_INJECTION"]]) {
      const err = await atCommand([imei(), cmd!], { ...deps, print: () => undefined }).catch((e) => e);
      expect(err.code).toBe(code!);
      expect((await audits()).at(-1)).toMatchObject({ actor: "cli:root", result: "refused", details: { command: cmd, code } });
    }
    expect(lab.modem(0).radio.cfun).toBe(1);
    const usage = await atCommand([imei()], { ...deps, print: () => undefined }).catch((e) => e);
    expect(usage.code).toBe("CLI_USAGE");
  });
});

describe("lteproxy modems", () => {
  test("table and JSON from the database", async () => {
    const out: string[] = [];
    expect(await modemsCommand([], { sql: rig.sql, nodeId: "node-a", print: (t) => out.push(t) })).toBe(0);
    const lines = out.join("\n").split("\n");
    expect(lines[0]).toMatch(/^SLOT\s+IMEI\s+STATE\s+OPERATOR\s+SIGNAL\s+WAN IP\s+PORT$/);
    expect(lines).toHaveLength(4);
    for (const m of lab.modems) expect(out.join("\n")).toContain(m.identity.imei);
    const json: string[] = [];
    await modemsCommand(["--json"], { sql: rig.sql, nodeId: "node-a", print: (t) => json.push(t) });
    const arr = JSON.parse(json[0]!) as Array<Record<string, unknown>>;
    expect(arr).toHaveLength(3);
    for (const key of ["slot", "imei", "iccid", "state", "operator", "rsrp", "csq", "wan_ip", "public_ip", "port"]) expect(arr[0]).toHaveProperty(key);
    expect(arr.map((r) => r.imei).sort()).toEqual(lab.modems.map((m) => m.identity.imei).sort());
    const other: string[] = [];
    await modemsCommand(["--json"], { sql: rig.sql, nodeId: "node-z", print: (t) => other.push(t) });
    expect(JSON.parse(other[0]!)).toEqual([]);
  });
});
