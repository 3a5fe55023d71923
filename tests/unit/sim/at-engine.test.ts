/** The AT engine alone, with a recording output and a scripted host: framing, echo, chaining, prompt, URCs. */
import { expect, test } from "bun:test";
import { AtEngine, type EngineHost } from "../../../src/sim/modem/at-engine.ts";
import type { AtCommand } from "../../../src/sim/modem/at-parse.ts";
import { FACTORY_PORT_SETTINGS, cme, info, OK, type AtResult } from "../../../src/sim/modem/types.ts";

function rig(handlers: Record<string, (c: AtCommand) => AtResult | Promise<AtResult>>) {
  const out: string[] = [];
  const host: EngineHost = {
    hung: false, wedged: false, garbage: () => undefined, latencyMs: () => 0, finalGapMs: () => 0,
    execute: async (c) => (handlers[c.name] ?? (() => ({ final: { kind: "ERROR" } })))(c),
  };
  const engine = new AtEngine(host, "at", { write: (d) => out.push(typeof d === "string" ? d : Buffer.from(d).toString("latin1")) }, FACTORY_PORT_SETTINGS);
  const send = async (s: string, wait = 20) => { out.length = 0; engine.feed(Buffer.from(s, "latin1")); await Bun.sleep(wait); return out.join(""); };
  return { engine, host, send };
}

test("framing: echo incl. CR, info lines joined by CRLF, blank line before OK", async () => {
  const { send } = rig({ "+CGDCONT": () => info('+CGDCONT: 1,"IP","a"', '+CGDCONT: 2,"IP","b"') });
  expect(await send("AT+CGDCONT?\r")).toBe('AT+CGDCONT?\r\r\n+CGDCONT: 1,"IP","a"\r\n+CGDCONT: 2,"IP","b"\r\n\r\nOK\r\n');
});

test("chaining: each command's block in order, the first error ends the line", async () => {
  const { send } = rig({ "+A": () => info("+A: 1"), "+B": () => cme(10), "+C": () => info("+C: 3") });
  expect(await send("AT+A;+C\r")).toBe("AT+A;+C\r\r\n+A: 1\r\n\r\n+C: 3\r\n\r\nOK\r\n");
  expect(await send("AT+A;+B;+C\r")).toBe("AT+A;+B;+C\r\r\n+A: 1\r\n\r\n+CME ERROR: 10\r\n");
});

test("CMEE 0/2, V0 numeric codes, Q1 silence, LF after CR tolerated, empty lines ignored", async () => {
  const { engine, send } = rig({ "+B": () => cme(10), "+A": () => info("+A: 1") });
  engine.settings.cmee = 0;
  expect(await send("AT+B\r\n")).toBe("AT+B\r\n\r\nERROR\r\n");
  engine.settings.cmee = 2;
  expect(await send("AT+B\r")).toBe("AT+B\r\r\n+CME ERROR: SIM not inserted\r\n");
  engine.settings.echo = false;
  engine.settings.verbose = false;
  expect(await send("AT+A\r")).toBe("+A: 1\r\n0\r");
  engine.settings.quiet = true;
  expect(await send("AT+A\r")).toBe("+A: 1\r\n");
  expect(await send("\r\r")).toBe("");
});

test("input arriving while busy waits and is echoed afterwards; backspace edits the line", async () => {
  let release!: () => void;
  const { send } = rig({ "+SLOW": () => new Promise<AtResult>((r) => { release = () => r(OK); }), "+A": () => OK });
  const first = send("AT+SLOW\rAT+A\r", 5);
  await Bun.sleep(10);
  release();
  expect(await first).toBe("AT+SLOW\r");
  await Bun.sleep(20);
  const { send: send2 } = rig({ "+A": () => info("+A: 1") });
  expect(await send2("AT+X\bA\r")).toBe("AT+X\bA\r\r\n+A: 1\r\n\r\nOK\r\n");
});

test("URC while idle is framed alone; while busy it lands before the final code", async () => {
  let release!: () => void;
  const { engine, send } = rig({ "+SLOW": () => new Promise<AtResult>((r) => { release = () => r(info("+SLOW: 1")); }) });
  expect(await (async () => { const p = send("", 5); engine.urc(["+CMTI: \"SM\",3"]); return p; })()).toBe('\r\n+CMTI: "SM",3\r\n');
  const pending = send("AT+SLOW\r", 30);
  await Bun.sleep(5);
  engine.urc(["RING"]);
  release();
  expect(await pending).toBe("AT+SLOW\r\r\n+SLOW: 1\r\n\r\nRING\r\n\r\nOK\r\n");
});

test('prompt: "\\r\\n> ", text echoed, Ctrl-Z submits, ESC aborts', async () => {
  let body = "";
  const { send } = rig({ "+CMGS": () => ({ prompt: async (b) => { body = b; return info("+CMGS: 7"); } }) });
  expect(await send('AT+CMGS="+49"\r')).toBe('AT+CMGS="+49"\r\r\n> ');
  expect(await send("hi\x1a")).toBe("hi\r\n+CMGS: 7\r\n\r\nOK\r\n");
  expect(body).toBe("hi");
  await send('AT+CMGS="+49"\r');
  expect(await send("x\x1b")).toBe("x\r\nOK\r\n");
});
