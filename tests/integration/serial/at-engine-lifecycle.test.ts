import { describe, expect, test } from "bun:test";
import { DEFAULT_INIT_COMMANDS } from "../../../src/modem/at/init-sequence.ts";
import { openAtChannel } from "../../../src/modem/at/open-at-channel.ts";
import { ERROR, ok, startScriptedModem } from "../../helpers/scripted-modem.ts";
import { codeOf, FAST, rig, until } from "./at-harness.ts";

/** Answers OK to every init command, like a healthy EC25. */
const initRules = DEFAULT_INIT_COMMANDS.filter((c) => c !== "ATE0").map((c) => ({ match: c, reply: ok() }));

describe("AT channel lifecycle: unplug, close, init", () => {
  test("unplug with a command in flight and two queued: onClose('unplugged') once, all reject AT_UNPLUGGED", async () => {
    const { ch, modem } = await rig({ rules: [{ match: "AT+COPS=?", hang: true }] });
    const reasons: string[] = [];
    ch.onClose((r) => reasons.push(r));
    const pending = [ch.send("AT+COPS=?", { timeoutMs: 30_000 }), ch.send("AT+CSQ"), ch.send("AT+CREG?")];
    await modem.waitForCommand("AT+COPS=?");
    await modem.unplug();
    expect(await Promise.all(pending.map(codeOf))).toEqual(["AT_UNPLUGGED", "AT_UNPLUGGED", "AT_UNPLUGGED"]);
    await until(() => reasons.length > 0, "onClose");
    expect(reasons).toEqual(["unplugged"]);
    expect(await codeOf(ch.send("AT"))).toBe("AT_UNPLUGGED");
    expect(ch.metrics()).toMatchObject({ open: false, queueDepth: 0, inFlight: null });
    expect(ch.metrics().commands["AT+COPS"]).toMatchObject({ aborted: 1 });
    await ch.close(); // after an unplug: resolves, no second onClose
    await Bun.sleep(20);
    expect(reasons).toEqual(["unplugged"]);
  });

  test("unplug while idle is noticed, and a late onClose listener still hears it", async () => {
    const { ch, modem } = await rig();
    let reason: string | null = null;
    ch.onClose((r) => (reason = r));
    await modem.unplug();
    await until(() => reason !== null, "the unplug to be noticed");
    expect(reason).toBe("unplugged" as never);
    const late = await new Promise<string>((resolve) => ch.onClose(resolve));
    expect(late).toBe("unplugged");
  });

  test("close() with a hung command in flight: returns, rejects AT_CLOSED, onClose('closed'), idempotent", async () => {
    const { ch, modem } = await rig({ rules: [{ match: "AT+CGATT=1", hang: true }] });
    const reasons: string[] = [];
    ch.onClose((r) => reasons.push(r));
    const inFlight = ch.send("AT+CGATT=1"); // 140 s class: only close() ends it here
    const queued = ch.send("AT+CSQ");
    await modem.waitForCommand("AT+CGATT=1");
    await ch.close();
    await ch.close();
    expect(await codeOf(inFlight)).toBe("AT_CLOSED");
    expect(await codeOf(queued)).toBe("AT_CLOSED");
    expect(await codeOf(ch.send("AT"))).toBe("AT_CLOSED");
    expect(reasons).toEqual(["closed"]);
  });

  test("init(): wakes the port, then the init list in order; echo ends up off", async () => {
    const { ch, modem } = await rig({ echo: true, rules: initRules });
    const report = await ch.init();
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.command)).toEqual([...DEFAULT_INIT_COMMANDS]);
    expect(modem.commands).toEqual(["AT", ...DEFAULT_INIT_COMMANDS]);
    expect(modem.echo).toBe(false);
  });

  test("init(): a command the firmware lacks answers ERROR; the rest still runs and the report says which", async () => {
    const rules = [{ match: 'AT+QURCCFG="urcport","usbat"', reply: ERROR }, ...initRules];
    const { ch, modem } = await rig({ rules });
    const report = await ch.init();
    expect(report.ok).toBe(false);
    expect(report.steps.filter((s) => !s.ok)).toEqual([{ command: 'AT+QURCCFG="urcport","usbat"', ok: false, final: "ERROR" }]);
    expect(modem.commands.at(-1)).toBe("AT+CNMI=2,1,0,0,0");
  });

  test("init(): garbage in the modem's buffer makes the first AT fail [T 20]; init goes on", async () => {
    const { ch, modem } = await rig({ rules: [{ match: "AT", reply: ERROR, times: 1 }, ...initRules] });
    expect((await ch.init()).ok).toBe(true);
    expect(modem.commands[0]).toBe("AT");
  });

  test("init(): a silent port gives AT_NOT_RESPONDING", async () => {
    const { ch, modem } = await rig();
    modem.mode = "hang";
    expect(await codeOf(ch.init())).toBe("AT_NOT_RESPONDING");
  });

  test("configurable init list and autoInit; a reopen of the same port runs init again", async () => {
    const modem = startScriptedModem({ rules: [{ match: "AT+QCFG=\"urc/cache\",0", reply: ok() }] });
    try {
      for (let round = 0; round < 2; round++) {
        const ch = await openAtChannel(modem.path, { ...FAST, autoInit: true, initCommands: ["ATE0", 'AT+QCFG="urc/cache",0'] });
        expect(ch.metrics().commands['AT+QCFG']).toMatchObject({ count: 1, ok: 1 });
        await ch.close();
      }
      expect(modem.commands.filter((c) => c === 'AT+QCFG="urc/cache",0')).toHaveLength(2);
    } finally {
      await modem.close();
    }
  });

  test("opening a path that is not there rejects with SERIAL_OPEN_FAILED", async () => {
    expect(await codeOf(openAtChannel("/dev/lteproxy-missing-port"))).toBe("SERIAL_OPEN_FAILED");
  });
});
