/**
 * The EC25 driver's actions against the simulator on real ptys, through the manager (manager.driver(id)):
 * radio power and its effect on the lifecycle, the $QCRMCALL data call, SMS and USSD, and `modem.updated`
 * events from the status polls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ModemManager } from "../../../src/modem/manager.ts";
import type { SimLab } from "../../../src/sim/lab.ts";
import { startRig, until, type Rig } from "./helpers.ts";

let rig: Rig;
let lab: SimLab;
let manager: ModemManager;

beforeAll(async () => {
  rig = await startRig();
  lab = await rig.startLab({ modems: 2, seed: 61 });
  manager = rig.newManager(lab.info);
  await manager.start();
  await until(() => manager.list().filter((m) => m.state === "registered").length === 2, "registered");
}, 30_000);
afterAll(async () => rig?.stop());

const imei = () => lab.modems[0]!.identity.imei;

describe("EC25 driver on the simulator", () => {
  test("airplane mode takes the modem offline, radio on brings it back to registered", async () => {
    await manager.driver(imei()).setRadio("airplane");
    expect(lab.modem(0).radio.cfun).toBe(4);
    await until(() => manager.get(imei())!.state === "offline", "offline");
    expect(manager.get(imei())!.stateReason).toMatch(/CFUN=4/);
    await manager.driver(imei()).setRadio("on");
    await until(() => manager.get(imei())!.state === "registered", "registered again");
  });

  test("data call start and stop through AT$QCRMCALL", async () => {
    const d = manager.driver(imei());
    expect(await d.dataCall("start")).toMatchObject({ connected: true, ipv4: true });
    expect(lab.modem(0).data.active).toBe(true);
    expect((await d.raw("AT$QCRMCALL?")).lines).toEqual(["$QCRMCALL: 1,V4"]);
    expect(await d.dataCall("stop")).toMatchObject({ connected: false });
    expect(lab.modem(0).data.active).toBe(false);
  });

  test("SMS: a delivered message is listed and read, a sent one gets a reference, delete empties the store", async () => {
    const d = manager.driver(imei());
    await lab.ctl("0", "sms", "+4915112345678", "Ihr Code lautet 1234");
    const list = await d.listSms();
    const msg = list.find((m) => m.text === "Ihr Code lautet 1234");
    expect(msg).toMatchObject({ sender: "+4915112345678", status: "REC UNREAD" });
    expect(await d.readSms(msg!.index!)).toMatchObject({ text: "Ihr Code lautet 1234", status: "REC READ" });
    expect((await d.sendSms("+4915112345678", "hello from lteproxy")).messageReference).toBeGreaterThanOrEqual(0);
    await d.deleteSms("all");
    expect(await d.listSms()).toEqual([]);
  });

  test("USSD: OK, then the network's answer as a +CUSD URC", async () => {
    await lab.ctl("0", "ussd-reply", "Guthaben: 9,99 EUR");
    expect(await manager.driver(imei()).ussd("*100#", { timeoutMs: 5000 })).toMatchObject({ status: "done", text: "Guthaben: 9,99 EUR" });
  });

  test("status polls emit modem.updated when a shown value changes beyond the deadband", async () => {
    const id = manager.get(imei())!.id;
    const seen: Array<Record<string, unknown>> = [];
    const off = manager.on("updated", (m, changed) => {
      if (m.id === id) seen.push(changed);
    });
    const before = lab.modem(0).radio.signal.rsrp;
    const target = before > -100 ? -120 : -70;
    await lab.ctl("0", "signal", String(target));
    await until(() => seen.some((c) => "rsrp" in c), "rsrp change event", 10_000);
    off();
    const rows = await rig.sql`select payload from modem_events where modem_id = ${id} and kind = 'modem.updated' order by seq desc limit 5`;
    expect(rows.some((r) => "rsrp" in ((r.payload as { changed: object }).changed))).toBe(true);
    expect(Number((await rig.sql`select rsrp from modems where id = ${id}`)[0]!.rsrp)).toBe(lab.modem(0).radio.signal.rsrp);
  });
});
