import { describe, expect, test } from "bun:test";
import { garbage, ok, seededRandom, splitRandomly } from "../../helpers/scripted-modem.ts";
import { codeOf, rig, until } from "./at-harness.ts";

describe("AT engine: timeouts, resync, wedged ports, garbage", () => {
  test("timeout → resync (AT → OK) → a late stale answer is dropped → the next command gets its own answer", async () => {
    const { ch, modem } = await rig({
      rules: [
        // Answers, but far too late: the engine has given up by then.
        { match: "AT+COPS=?", delayMs: 400, reply: ok('+COPS: (2,"Operator A","OpA","26201",7)', "") },
        { match: "AT+CSQ", reply: ok("+CSQ: 21,99") },
      ],
    });
    const error = await ch.send("AT+COPS=?", { timeoutMs: 150 }).catch((e) => e);
    expect(error.code).toBe("AT_TIMEOUT");
    const r = await ch.send("AT+CSQ");
    expect(r.lines).toEqual(["+CSQ: 21,99"]);
    const iCops = modem.commands.indexOf("AT+COPS=?");
    expect(modem.commands.slice(iCops + 1)).toContain("AT"); // the resync probe went out
    const m = ch.metrics();
    expect(m.commands["AT+COPS"]).toMatchObject({ count: 1, timeouts: 1 });
    expect(m.resyncs).toBe(1);
    expect(m.resyncFailures).toBe(0);
    expect(m.consecutiveTimeouts).toBe(0);
  });

  test("a hung modem times out; once it answers again the queue carries on", async () => {
    const { ch, modem } = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 9,99") }] });
    modem.mode = "hang";
    const queued = [ch.send("AT+CSQ", { timeoutMs: 100 }), ch.send("AT+CSQ", { timeoutMs: 100 })];
    expect(await Promise.all(queued.map(codeOf))).toEqual(["AT_TIMEOUT", "AT_TIMEOUT"]);
    modem.mode = "normal";
    expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 9,99"]);
    expect(ch.metrics().commands["AT+CSQ"]).toMatchObject({ count: 3, ok: 1, timeouts: 2 });
  });

  test("a fresh port (echo state unknown) that echoes the command back twice is wedged too", async () => {
    const { ch, modem } = await rig({ echo: false, rules: [{ match: "AT+CMGD=0,4", reply: "AT+CMGD=0,4AT+CMGD=0,4" }] });
    expect(await codeOf(ch.send("AT+CMGD=0,4", { timeoutMs: 150 }))).toBe("AT_ECHO_ONLY");
    expect(modem.commands).toContain("AT+CMGD=0,4");
  });

  test("echo-only wedge [T 38]: AT_ECHO_ONLY, counted, resync fails while wedged, recovers after", async () => {
    const { ch, modem } = await rig({ echo: true });
    expect((await ch.send("ATE0")).ok).toBe(true); // echo is now known to be off
    modem.mode = "echo-only";
    const error = await ch.send("AT+CMGD=0,4", { timeoutMs: 150 }).catch((e) => e);
    expect(error.code).toBe("AT_ECHO_ONLY");
    await until(() => ch.metrics().resyncFailures === 1, "the resync to give up", 5000);
    const m = ch.metrics();
    expect(m.echoOnly).toBe(1);
    expect(m.commands["AT+CMGD"]).toMatchObject({ echoOnly: 1, timeouts: 0 });
    modem.mode = "normal";
    expect((await ch.send("AT")).ok).toBe(true);
  });

  test("with echo known to be on, echo followed by silence is a plain AT_TIMEOUT", async () => {
    const { ch, modem } = await rig({ echo: true, rules: [{ match: "AT+SLOW", hang: true }] });
    expect((await ch.send("AT")).ok).toBe(true); // echo seen on an answered command → echo is on
    expect(await codeOf(ch.send("AT+SLOW", { timeoutMs: 150 }))).toBe("AT_TIMEOUT");
    expect(modem.commands).toContain("AT+SLOW");
  });

  test("CMGS that never answers: ESC leaves text input before the resync AT", async () => {
    const { ch, modem } = await rig({ rules: [{ match: /^AT\+CMGS=/, prompt: true }] }); // prompt, then silence
    expect(await codeOf(ch.send('AT+CMGS="+15551230000"', { body: "hi", timeoutMs: 200 }))).toBe("AT_TIMEOUT");
    expect(modem.bodies).toEqual(["hi"]);
    expect((await ch.send("AT")).ok).toBe(true);
    expect(modem.strayControls).toContain(0x1b);
  });

  test("CMGS without a prompt: ESC aborts the half-open input, the body never leaks", async () => {
    const { ch, modem } = await rig({ rules: [{ match: /^AT\+CMGS=/, hang: true }] });
    expect(await codeOf(ch.send('AT+CMGS="1"', { body: "secret", timeoutMs: 150 }))).toBe("AT_TIMEOUT");
    expect((await ch.send("AT")).ok).toBe(true);
    expect(modem.strayControls).toEqual([0x1b]);
    expect(modem.commands.some((c) => c.includes("secret"))).toBe(false);
  });

  test("a hung port does not slow a second channel", async () => {
    const hung = await rig({ rules: [{ match: "AT+COPS=?", hang: true }] });
    const healthy = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 30,99") }] });
    let hungSettled = false;
    const stuck = hung.ch.send("AT+COPS=?", { timeoutMs: 20_000 }).finally(() => (hungSettled = true));
    await hung.modem.waitForCommand("AT+COPS=?");
    for (let i = 0; i < 30; i++) expect((await healthy.ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 30,99"]);
    // All 30 answers came while the other port's command was still outstanding.
    expect(hungSettled).toBe(false);
    expect(hung.ch.metrics().inFlight).toBe("AT+COPS=?");
    await hung.ch.close();
    expect(await codeOf(stuck)).toBe("AT_CLOSED");
  });

  test("garbage fuzz: thousands of random chunks (NULs, CR/LF, '>', partial UTF-8) never crash or wedge it", async () => {
    const random = seededRandom(20240601);
    const { ch, modem } = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 19,99") }] });
    // 1. idle garbage
    for (let i = 0; i < 3000; i++) {
      void modem.emit(garbage(1 + Math.floor(random() * 48), random));
      if (i % 500 === 0) await Bun.sleep(1);
    }
    // A marker URC tells when the engine has consumed everything before it (a known URC: it passes even
    // while the engine drops stale lines after a timeout).
    const urcs: string[] = [];
    ch.onUrc((l) => urcs.push(l));
    await modem.emit('\r\n+QIND: "mark",1\r\n');
    await until(() => urcs.includes('+QIND: "mark",1'), "the marker after the garbage");
    expect(ch.metrics().staleLines).toBeGreaterThan(0);
    expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 19,99"]);
    // 2. real answers cut into pieces across reads, with NULs in front
    modem.on({ match: "AT+QSPLIT", hang: true });
    for (let round = 0; round < 25; round++) {
      const pending = ch.send("AT+QSPLIT");
      await until(() => modem.commands.filter((c) => c === "AT+QSPLIT").length === round + 1, "AT+QSPLIT");
      const answer = Buffer.from(`\u0000\u0000\r\n+QSPLIT: ${round},"x"\r\n\r\nOK\r\n`, "latin1");
      for (const piece of splitRandomly(answer, random, 5)) {
        await modem.emit(piece);
        if (random() < 0.3) await Bun.sleep(0);
      }
      expect((await pending).lines).toEqual([`+QSPLIT: ${round},"x"`]);
    }
    // 3. garbage while a command is in flight: whatever it resolves to, the engine keeps going
    const inFlight = ch.send("AT+QSPLIT", { timeoutMs: 300 }).then(() => "resolved", (e) => e.code);
    await until(() => modem.commands.filter((c) => c === "AT+QSPLIT").length === 26, "AT+QSPLIT in flight");
    for (let i = 0; i < 500; i++) void modem.emit(garbage(1 + Math.floor(random() * 32), random));
    expect(["resolved", "AT_TIMEOUT", "AT_ECHO_ONLY"]).toContain(await inFlight);
    await modem.emit('\r\n+QIND: "mark",2\r\n');
    await until(() => urcs.includes('+QIND: "mark",2'), "the second marker");
    expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 19,99"]);
    expect(ch.metrics().open).toBe(true);
  }, 20_000);
});
