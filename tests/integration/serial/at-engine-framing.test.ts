import { describe, expect, test } from "bun:test";
import { ERROR, frame, ok } from "../../helpers/scripted-modem.ts";
import { codeOf, rig, until } from "./at-harness.ts";

describe("AT engine framing over a real pty (ec25.md §3.2-§3.4)", () => {
  test("T 03 bytes: echo with CR, info line, blank line, OK", async () => {
    // The modem's echo is part of the scripted bytes here, byte-exact from the gammu hex dump.
    const { ch } = await rig({ echo: false, rules: [{ match: "AT+CGMR", reply: "AT+CGMR\r\r\nEC25EFAR06A04M4G\r\n\r\nOK\r\n" }] });
    const r = await ch.send("AT+CGMR");
    expect(r).toMatchObject({ command: "AT+CGMR", lines: ["EC25EFAR06A04M4G"], final: "OK", kind: "OK", ok: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("T 04 bytes: unsupported command echoes and answers bare ERROR", async () => {
    const { ch } = await rig({ echo: false, rules: [{ match: "AT+MODE=2", reply: "AT+MODE=2\r\r\nERROR\r\n" }] });
    expect(await ch.send("AT+MODE=2")).toMatchObject({ lines: [], final: "ERROR", kind: "ERROR", ok: false });
  });

  test("echo on (character echo by the modem) is stripped, lower-case commands too", async () => {
    const { ch, modem } = await rig({ echo: true, rules: [{ match: /^at\+csq$/i, reply: ok("+CSQ: 25,99") }] });
    expect((await ch.send("at+csq")).lines).toEqual(["+CSQ: 25,99"]);
    expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 25,99"]);
    expect(modem.commands).toEqual(["at+csq", "AT+CSQ"]);
  });

  test("an answer delivered a few bytes per read parses the same", async () => {
    const { ch, modem } = await rig({ echo: false, rules: [{ match: "AT+QCCID", hang: true }] });
    const pending = ch.send("AT+QCCID");
    await modem.waitForCommand("AT+QCCID");
    const bytes = "AT+QCCID\r\r\n+QCCID: 89860318740210583396\r\n\r\nOK\r\n";
    for (let i = 0; i < bytes.length; i += 3) {
      await modem.emit(bytes.slice(i, i + 3));
      await Bun.sleep(1);
    }
    expect((await pending).lines).toEqual(["+QCCID: 89860318740210583396"]);
  });

  test("multi-line information (T 20 +CGDCONT?) keeps order", async () => {
    const lines = [
      '+CGDCONT: 1,"IP","internet","0.0.0.0",0,0,0,0',
      '+CGDCONT: 2,"IP","uninet","0.0.0.0",0,0,0,0',
      '+CGDCONT: 3,"IPV4V6","3gpp","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0',
    ];
    // T 20 separates consecutive info lines by a single CRLF.
    const { ch } = await rig({ rules: [{ match: "AT+CGDCONT?", reply: `\r\n${lines.join("\r\n")}\r\n\r\nOK\r\n` }] });
    expect((await ch.send("AT+CGDCONT?")).lines).toEqual(lines);
  });

  test("bare multi-line answers (ATI) are information, not URCs", async () => {
    const { ch, urcs } = await rig({ rules: [{ match: "ATI", reply: ok("Quectel", "EC25", "Revision: EC25EUXGAR08A06M1G") }] });
    expect((await ch.send("ATI")).lines).toEqual(["Quectel", "EC25", "Revision: EC25EUXGAR08A06M1G"]);
    expect(urcs).toEqual([]);
  });

  test("chained commands: every info line in order, one final code (ec25.md §3.2)", async () => {
    const { ch } = await rig({ rules: [{ match: "AT+CSQ;+CREG?", reply: ok("+CSQ: 17,99", "+CREG: 0,1") }] });
    const r = await ch.send("AT+CSQ;+CREG?");
    expect(r.lines).toEqual(["+CSQ: 17,99", "+CREG: 0,1"]);
    expect(r.kind).toBe("OK");
  });

  test.each([
    ["ERROR", { kind: "ERROR", ok: false }],
    ["+CME ERROR: 10", { kind: "CME_ERROR", ok: false, errorCode: 10 }],
    ["+CME ERROR: SIM not inserted", { kind: "CME_ERROR", ok: false, errorText: "SIM not inserted" }],
    ["+CMS ERROR: 350", { kind: "CMS_ERROR", ok: false, errorCode: 350 }],
    ["NO CARRIER", { kind: "NO_CARRIER", ok: false }],
    ["CONNECT 150000000", { kind: "CONNECT", ok: true }],
    ["BUSY", { kind: "BUSY", ok: false }],
    ["NO ANSWER", { kind: "NO_ANSWER", ok: false }],
    ["NO DIALTONE", { kind: "NO_DIALTONE", ok: false }],
    ["OK", { kind: "OK", ok: true }],
  ])("final code %s", async (finalLine, expected) => {
    // A dial command, so that NO CARRIER is its final code rather than a URC.
    const { ch } = await rig({ rules: [{ match: /^AT/, reply: frame(finalLine) }] });
    const r = await ch.send("ATD*99#");
    expect(r).toMatchObject({ ...expected, final: finalLine, lines: [] });
  });

  test("+CME ERROR after information lines keeps the lines", async () => {
    const { ch } = await rig({ rules: [{ match: "AT+CIMI", reply: frame("+CME ERROR: 13") }] });
    expect(await ch.send("AT+CIMI")).toMatchObject({ kind: "CME_ERROR", errorCode: 13, ok: false });
  });

  describe("SMS prompt (ec25.md §4.6)", () => {
    for (const echo of [false, true]) {
      test(`AT+CMGS: prompt, body + Ctrl-Z, +CMGS answer (echo ${echo ? "on" : "off"})`, async () => {
        const { ch, modem } = await rig({ echo, rules: [{ match: /^AT\+CMGS=/, prompt: true, reply: ok("+CMGS: 13") }] });
        const r = await ch.send('AT+CMGS="+15551230000"', { body: "Hello from lteproxy" });
        expect(r).toMatchObject({ lines: ["+CMGS: 13"], kind: "OK" });
        expect(modem.bodies).toEqual(["Hello from lteproxy"]);
      });
    }

    test("an error instead of the prompt: no body is sent", async () => {
      const { ch, modem } = await rig({ rules: [{ match: /^AT\+CMGS=/, reply: frame("+CMS ERROR: 350") }] });
      const r = await ch.send('AT+CMGS="+15551230000"', { body: "x" });
      expect(r).toMatchObject({ kind: "CMS_ERROR", errorCode: 350 });
      expect(modem.bodies).toEqual([]);
      expect((await ch.send("AT")).ok).toBe(true); // and the body did not leak into the next command
      expect(modem.commands).toEqual(['AT+CMGS="+15551230000"', "AT"]);
    });

    test("a body with Ctrl-Z / ESC / CR is refused before anything is sent", async () => {
      const { ch, modem } = await rig();
      expect(await codeOf(ch.send('AT+CMGS="1"', { body: "a\u001ab" }))).toBe("AT_INVALID_COMMAND");
      expect(modem.commands).toEqual([]);
    });
  });

  describe("URC demultiplexing", () => {
    test("a URC in the middle of a response goes to onUrc, not into the lines [T 23]", async () => {
      const { ch, urcs } = await rig({ rules: [{ match: "AT+CREG?", reply: "\r\n+CREG: 0,1\r\n\r\n+QIND: PB DONE\r\n\r\nOK\r\n" }] });
      expect((await ch.send("AT+CREG?")).lines).toEqual(["+CREG: 0,1"]);
      expect(urcs).toEqual(["+QIND: PB DONE"]);
    });

    test("+CEREG read answer vs +CEREG URC in the same response", async () => {
      const urc = '+CEREG: 1,"1A2B","01A2B3C4",7';
      const answer = '+CEREG: 2,1,"1A2B","01A2B3C4",7';
      const { ch, urcs } = await rig({ rules: [{ match: "AT+CEREG?", reply: `${frame(urc)}${ok(answer)}` }] });
      expect((await ch.send("AT+CEREG?")).lines).toEqual([answer]);
      expect(urcs).toEqual([urc]);
    });

    test("+CPIN answer vs +CPIN URC: the first in AT+CPIN? is the answer, the one before any command a URC", async () => {
      const { ch, modem, urcs } = await rig({ rules: [{ match: "AT+CPIN?", reply: `${ok("+CPIN: READY")}` }] });
      await modem.urc("+CPIN: READY");
      await until(() => urcs.length === 1, "idle +CPIN URC");
      expect((await ch.send("AT+CPIN?")).lines).toEqual(["+CPIN: READY"]);
      expect(urcs).toEqual(["+CPIN: READY"]);
    });

    test("two +CPIN lines in one AT+CPIN? response: the first is the answer, the second the URC", async () => {
      const { ch, urcs } = await rig({ rules: [{ match: "AT+CPIN?", reply: `${frame("+CPIN: SIM PIN")}${ok("+CPIN: READY")}` }] });
      expect((await ch.send("AT+CPIN?")).lines).toEqual(["+CPIN: SIM PIN"]);
      expect(urcs).toEqual(["+CPIN: READY"]);
    });

    test('+CPIN during AT+CPIN="1234" (which answers only OK) is the URC', async () => {
      const { ch, urcs } = await rig({ rules: [{ match: 'AT+CPIN="1234"', reply: `${frame("+CPIN: READY")}\r\nOK\r\n` }] });
      expect((await ch.send('AT+CPIN="1234"')).lines).toEqual([]);
      expect(urcs).toEqual(["+CPIN: READY"]);
    });

    test("NO CARRIER during a non-dial command is a URC; the command still gets its own OK", async () => {
      const { ch, urcs } = await rig({ rules: [{ match: "AT+CSQ", reply: `${frame("NO CARRIER")}${ok("+CSQ: 3,99")}` }] });
      expect(await ch.send("AT+CSQ")).toMatchObject({ lines: ["+CSQ: 3,99"], kind: "OK" });
      expect(urcs).toEqual(["NO CARRIER"]);
    });

    test("+CMT arrives with its text on the next line: one URC, both lines", async () => {
      const { ch, modem, urcs } = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 3,99") }] });
      await modem.emit('\r\n+CMT: "+15551230000",,"21/05/12,10:37:39+08"\r\nHello\r\n');
      await until(() => urcs.length === 1, "+CMT");
      expect(urcs).toEqual(['+CMT: "+15551230000",,"21/05/12,10:37:39+08"\nHello']);
      expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 3,99"]);
    });

    test("T 20: OK to AT+CFUN=1 then the unsolicited SIM burst, all delivered in order", async () => {
      const burst = ["+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"];
      const { ch, urcs } = await rig({ rules: [{ match: "AT+CFUN=1", reply: `\r\nOK\r\n${burst.map(frame).join("")}` }] });
      expect((await ch.send("AT+CFUN=1")).ok).toBe(true);
      await until(() => urcs.length === burst.length, "the URC burst");
      expect(urcs).toEqual(burst);
    });

    test("idle: a stray OK (late final code) is dropped and counted; unknown +NAME: lines pass as URCs", async () => {
      const { ch, modem, urcs } = await rig();
      await modem.emit("\r\nOK\r\n\r\n+QNEWTHING: 7\r\n");
      await until(() => urcs.length === 1, "the +QNEWTHING URC");
      expect(urcs).toEqual(["+QNEWTHING: 7"]);
      expect(ch.metrics().staleLines).toBe(1);
    });

    test("a listener that throws does not break the engine", async () => {
      const { ch, modem, urcs } = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 1,99") }] });
      ch.onUrc(() => {
        throw new Error("listener bug");
      });
      await modem.urc("RDY");
      await until(() => urcs.length === 1, "RDY");
      expect((await ch.send("AT+CSQ")).lines).toEqual(["+CSQ: 1,99"]);
    });

    test("unsubscribe stops delivery", async () => {
      const { ch, modem, urcs } = await rig();
      const mine: string[] = [];
      const off = ch.onUrc((l) => mine.push(l));
      await modem.urc("RING");
      await until(() => urcs.length === 1, "first RING");
      off();
      await modem.urc("RING");
      await until(() => urcs.length === 2, "second RING");
      expect(mine).toEqual(["RING"]);
    });
  });

  describe("queue", () => {
    test("FIFO with one command in flight: 20 concurrent sends, each gets its own answer", async () => {
      const { ch, modem } = await rig({
        echo: true,
        rules: [{ match: /^AT\+QTEST=\d+$/, delayMs: 2, reply: (c) => ok(`+QTEST: ${c.split("=")[1]}`) }],
      });
      const sends = Array.from({ length: 20 }, (_, i) => ch.send(`AT+QTEST=${i}`));
      const results = await Promise.all(sends);
      results.forEach((r, i) => expect(r.lines).toEqual([`+QTEST: ${i}`]));
      expect(modem.commands).toEqual(Array.from({ length: 20 }, (_, i) => `AT+QTEST=${i}`));
      expect(ch.metrics().commands["AT+QTEST"]!.count).toBe(20);
    });

    test.each(["AT+CFUN=1,1\r\nAT+CFUN=0", "AT\n", "AT\u0000", "+CSQ", ""])("refuses %j with AT_INVALID_COMMAND, sends nothing",
      async (command) => {
        const { ch, modem } = await rig();
        expect(await codeOf(ch.send(command))).toBe("AT_INVALID_COMMAND");
        await ch.send("AT");
        expect(modem.commands).toEqual(["AT"]);
      });

    test("a bounded queue: AT_QUEUE_FULL past maxQueue", async () => {
      const { ch } = await rig({ rules: [{ match: "AT+HANG", hang: true }] }, { maxQueue: 2 });
      const a = ch.send("AT+HANG", { timeoutMs: 2000 });
      const b = ch.send("AT+HANG", { timeoutMs: 2000 });
      const c = ch.send("AT+HANG", { timeoutMs: 2000 });
      expect(await codeOf(ch.send("AT"))).toBe("AT_QUEUE_FULL");
      await ch.close();
      expect(await Promise.all([a, b, c].map(codeOf))).toEqual(["AT_CLOSED", "AT_CLOSED", "AT_CLOSED"]);
    });

    test("metrics count ok / errors and fill the latency histogram", async () => {
      const { ch } = await rig({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 1,99") }, { match: "AT+BAD", reply: ERROR }] });
      await ch.send("AT+CSQ");
      await ch.send("AT+CSQ");
      await ch.send("AT+BAD");
      const m = ch.metrics();
      expect(m.commands["AT+CSQ"]).toMatchObject({ count: 2, ok: 2, errors: 0, timeouts: 0 });
      expect(m.commands["AT+BAD"]).toMatchObject({ count: 1, ok: 0, errors: 1 });
      expect(m.commands["AT+CSQ"]!.latency.infCount).toBe(2);
      expect(m.commands["AT+CSQ"]!.latency.counts.at(-1)).toBe(2);
      expect(m).toMatchObject({ open: true, queueDepth: 0, inFlight: null });
    });
  });
});
