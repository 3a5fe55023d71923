/**
 * The heal ladder's rules on a real PostgreSQL with a scripted modem (FakeChannel) instead of the lab: escalation
 * order, attempts per step, skipped rungs, the breaker, joining, cancellation. The lab test (heal-lab.test.ts)
 * runs the same ladder against simulated EC25s end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HealLadder, type LadderOptions } from "../../../src/health/heal-ladder.ts";
import type { HealModems } from "../../../src/health/heal-steps.ts";
import type { ModemState } from "../../../src/db/queries/modem-state.ts";
import type { ManagedModem } from "../../../src/modem/manager.ts";
import { FakeChannel } from "../../unit/modem/fake-channel.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const NODE = "ladder-node";
let db: TestDb;
let sysfs: string;

beforeAll(async () => {
  db = await createTestDb({ prefix: "ladder" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'h')`;
  sysfs = mkdtempSync(join(tmpdir(), "ladder-sysfs-"));
}, 60_000);
afterAll(async () => {
  await db?.drop();
  rmSync(sysfs, { recursive: true, force: true });
});

/** One modem: a scripted AT channel and a state machine the test steers through `onHandBack`. */
class FakeModems implements HealModems {
  state: ModemState = "degraded";
  present = true;
  readonly states: string[] = [];
  onHandBack: () => void = () => {};
  constructor(readonly id: number, readonly channelImpl: FakeChannel) {}
  get(target: number): ManagedModem | undefined {
    if (target !== this.id) return undefined;
    return {
      id: this.id, imei: "860000000000009", slot: "s", state: this.state, stateReason: null, stateSince: new Date(), present: this.present,
      paths: null, identity: null, status: null, proxyPort: 3128, routeTable: 100, atFailures: 0, lastError: null,
    };
  }
  channel(): FakeChannel {
    if (!this.present) throw new Error("MODEM_NOT_PRESENT");
    return this.channelImpl;
  }
  async setState(_t: number, s: ModemState): Promise<void> {
    this.state = s;
    this.states.push(s);
  }
  async refresh(): Promise<void> {
    if (this.state === "searching") this.onHandBack();
  }
}

const FAST: Partial<LadderOptions> = {
  attemptsPerStep: 2, backoffBaseMs: 1, backoffCapMs: 5, airplaneHoldMs: 5, atTimeoutMs: 200, usbHoldMs: 5,
  settleMs: { data: 150, airplane: 150, reboot: 150, "usb-reset": 150 }, breaker: { cooldownMs: 60_000, maxCooldownMs: 120_000 },
};

async function modemRow(): Promise<number> {
  const imei = `86${String(Date.now()).slice(-6)}${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  return Number((await db.sql`insert into modems (node_id, imei, state) values (${NODE}, ${imei}, 'degraded') returning id`)[0]!.id);
}

async function steps(modemId: number): Promise<string[]> {
  const rows = await db.sql`select kind, payload from modem_events where modem_id = ${modemId} and kind like 'heal.%' order by seq`;
  return rows.map((r) => {
    const p = r.payload as { step?: string; result: string };
    return r.kind === "heal.step" ? `${p.step}:${p.result}` : `${r.kind}${p.result ? `:${p.result}` : ""}`;
  });
}

function ladder(modems: FakeModems, extra: { verify?: () => Promise<{ ok: boolean; detail: string }>; usbDevice?: string | null; failed?: string[] } = {}, opts = FAST) {
  return new HealLadder({
    sql: db.sql, nodeId: NODE, modems, sysfsRoot: sysfs,
    usbDeviceOf: async () => extra.usbDevice ?? null,
    verify: extra.verify ?? (async () => ({ ok: true, detail: "fine" })),
    onFailed: async (id) => void extra.failed?.push(String(id)),
  }, opts);
}

describe("HealLadder", () => {
  test("the cheapest rung that works ends it: data restart recovers, state healing → searching → online", async () => {
    const id = await modemRow();
    const m = new FakeModems(id, new FakeChannel());
    m.onHandBack = () => void (m.state = "online");
    const out = await ladder(m).heal(id, "data path failed on 3 sweeps");
    expect(out).toMatchObject({ result: "recovered", step: "data", attempts: 1 });
    expect(m.states.slice(0, 2)).toEqual(["healing", "searching"]);
    expect(await steps(id)).toEqual(["heal.started", "data:ok", "heal.done:recovered"]);
  });

  test("nothing helps: every rung twice in order, then failed, alert hook, breaker open; force overrides it", async () => {
    const id = await modemRow();
    const ch = new FakeChannel({ "AT+CFUN=4": { final: "+CME ERROR: 3" }, "AT+CFUN=1,1": { error: "AT_TIMEOUT" } });
    const m = new FakeModems(id, ch);
    const failed: string[] = [];
    const dev = join(sysfs, "bus/usb/devices/1-1.4");
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, "authorized"), "1\n");
    const l = ladder(m, { usbDevice: "1-1.4", failed });
    const out = await l.heal(id, "AT probe failed on 3 sweeps");
    expect(out.result).toBe("failed");
    expect(await steps(id)).toEqual([
      "heal.started", "data:failed", "data:failed", "airplane:failed", "airplane:failed", "reboot:failed", "reboot:failed",
      "usb-reset:failed", "usb-reset:failed", "heal.done:failed",
    ]);
    expect(readFileSync(join(dev, "authorized"), "utf8").trim()).toBe("1");
    expect(m.state).toBe("failed");
    expect(failed).toEqual([String(id)]);
    expect(ch.sent.filter((c) => c.command === "AT+CFUN=4").length).toBe(2);
    // the breaker: refused without force
    expect(await l.heal(id, "again")).toMatchObject({ result: "refused", detail: "circuit breaker open" });
    expect(l.breakers.allows(id, Date.now())).toBe(false);
    m.onHandBack = () => void (m.state = "online");
    expect((await l.heal(id, "an admin insists", { force: true })).result).toBe("recovered");
    expect(l.breakers.allows(id, Date.now())).toBe(true);
  });

  test("airplane: CFUN=4, hold, CFUN=1, then hand back; online but unverified is not recovered", async () => {
    const id = await modemRow();
    const ch = new FakeChannel({ "AT+CFUN=4": {}, "AT+CFUN=1": {} });
    const m = new FakeModems(id, ch);
    let handBacks = 0;
    m.onHandBack = () => {
      handBacks++;
      m.state = "online";
    };
    // The data path only works after the radio was toggled, and only on the second look.
    let looks = 0;
    const verify = async () => {
      if (!ch.sent.some((c) => c.command === "AT+CFUN=1")) return { ok: false, detail: "no public IP" };
      return ++looks > 1 ? { ok: true, detail: "ok" } : { ok: false, detail: "no public IP yet" };
    };
    const out = await ladder(m, { verify }, { ...FAST, settleMs: { ...FAST.settleMs!, data: 50, airplane: 5000 } })
      .heal(id, "test", { steps: ["data", "airplane"] });
    expect(out).toMatchObject({ result: "recovered", step: "airplane" });
    expect(ch.sent.map((c) => c.command)).toEqual(["AT+CFUN=4", "AT+CFUN=1"]);
    expect(handBacks).toBeGreaterThanOrEqual(2);
    const s = await steps(id);
    expect(s.filter((x) => x.startsWith("data:"))).toEqual(["data:failed", "data:failed"]);
    expect(s.at(-2)).toBe("airplane:ok");
  });

  test("no AT port: the AT rungs are skipped once each; joining; an admin disabling the modem cancels it", async () => {
    const id = await modemRow();
    const m = new FakeModems(id, new FakeChannel());
    m.present = false;
    const l = ladder(m, { usbDevice: null });
    const [a, b] = [l.heal(id, "gone"), l.heal(id, "gone again")];
    expect(a).toBe(b);
    expect(l.active(id)).toBe(true);
    expect((await a).result).toBe("failed");
    expect(await steps(id)).toEqual(["heal.started", "data:skipped", "airplane:skipped", "reboot:skipped", "usb-reset:skipped", "heal.done:failed"]);

    const id2 = await modemRow();
    const m2 = new FakeModems(id2, new FakeChannel());
    const l2 = ladder(m2, {}, { ...FAST, backoffBaseMs: 100, backoffCapMs: 100 });
    const run = l2.heal(id2, "x");
    await Bun.sleep(20);
    m2.state = "disabled";
    expect((await run).result).toBe("stopped");
    expect((await steps(id2)).at(-1)).toBe("heal.done:cancelled");
    expect((await l2.heal(id2, "y")).detail).toBe("modem is disabled");
    m2.state = "rotating";
    expect((await l2.heal(id2, "y")).detail).toBe("modem is rotating");
  });
});
