/**
 * Every shared transcript (../shared/reference/transcripts) that shows an EC25-family command the sim supports is
 * replayed against the sim. Each row quotes the real device line from its transcript file (the test fails if the
 * line is not there), and one shape — a regex plus the field layout (count, quoted vs bare) — must accept both the
 * real line and the sim's. Gammu hex dumps [T 03, T 04] are compared byte for byte; qmicli sessions [T 05, T 26]
 * line by line after masking numbers and addresses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { splitParams } from "../../../src/sim/modem/at-parse.ts";
import { HostPort, runAsync } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

const TRANSCRIPTS = path.join(import.meta.dir, "../../../../shared/reference/transcripts");

function transcript(num: string): string {
  const file = fs.readdirSync(TRANSCRIPTS).find((f) => f.startsWith(`${num}_`));
  if (!file) throw new Error(`transcript ${num} not found in ${TRANSCRIPTS}`);
  // Forum software turned some ASCII quotes into curly ones [T 07 provenance note]; the modem sends '"'.
  return fs.readFileSync(path.join(TRANSCRIPTS, file), "utf8").replace(/[\u201c\u201d]/g, '"');
}

/** The first transcript line matching `re` (trimmed); fails when the transcript has none. */
function quote(num: string, re: RegExp): string {
  const line = transcript(num).split("\n").map((l) => l.trim()).find((l) => re.test(l));
  if (!line) throw new Error(`transcript ${num} has no line matching ${re}`);
  return line;
}

/** Field layout of an information line: prefix + per field "q" (quoted) or "b" (bare). */
function layout(line: string): string {
  const colon = line.indexOf(": ");
  if (colon < 0 || !line.startsWith("+")) return "bare";
  const fields = splitParams(line.slice(colon + 2)) ?? [];
  return `${line.slice(0, colon)}:${fields.map((f) => (f.startsWith('"') ? "q" : "b")).join("")}`;
}

/** Information lines of a raw answer (no echo, no blank lines, no final code). */
function infoLines(answer: string, echo: string): string[] {
  return answer.slice(echo.length + 1).split("\r\n").filter((l) => l !== "" && !/^(OK|ERROR|\+CM[ES] ERROR:.*)$/.test(l));
}

let registry: string;
let lab: SimLab;
let port: HostPort;

beforeAll(async () => {
  registry = isolateRegistry("transcripts");
  // RDY comes 200 ms after enumeration so that a host re-opening the port after a reboot sees the boot URCs.
  lab = await startSimLab({ modems: 3, timeScale: 0.01, seed: 3, roamingShare: 0, timings: { rdyMs: 20_000 } });
  await lab.ready(8000);
  port = new HostPort(lab.list()[0]!.at!);
});

afterAll(async () => {
  await port?.close();
  await lab?.stop();
  removeRegistry(registry);
});

interface Row {
  t: string;
  /** What the host types (case as in the transcript). */
  send: string;
  /** Finds the real answer line in the transcript. */
  real: RegExp;
  /** The shape both lines must have. */
  shape: RegExp;
  before?: () => Promise<void>;
}

const ROWS: Row[] = [
  { t: "01", send: "ATI", real: /^Revision: /, shape: /^Revision: E[CG]25[A-Z0-9]{12,14}$/ },
  { t: "05", send: "AT+CSQ", real: /^\+CSQ: /, shape: /^\+CSQ: (\d|[12]\d|3[01]|99),99$/ },
  { t: "05", send: "AT+COPS?", real: /^\+COPS: /, shape: /^\+COPS: 0,0,"[^"]+",7$/ },
  { t: "05", send: "AT+CCLK?", real: /^\+CCLK: /, shape: /^\+CCLK: "\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d[+-]\d\d"$/ },
  { t: "07", send: 'AT+QCFG="usbnet"', real: /^\+QCFG: "usbnet"/, shape: /^\+QCFG: "usbnet",[0-3]$/ },
  { t: "07", send: "AT+CPIN?", real: /^\+CPIN: /, shape: /^\+CPIN: READY$/ },
  { t: "07", send: "AT+CREG?", real: /^\+CREG: /, shape: /^\+CREG: 0,[0-5]$/ },
  { t: "11", send: 'AT+QCFG="usbnet"', real: /^\+QCFG: "usbnet",0$/, shape: /^\+QCFG: "usbnet",0$/ },
  { t: "20", send: "at+creg?", real: /^\+CREG: /, shape: /^\+CREG: 0,[0-5]$/ },
  { t: "20", send: "at+cops?", real: /^\+COPS: 0,0,/, shape: /^\+COPS: 0,0,"[^"]+",7$/ },
  { t: "20", send: "at+csq", real: /^\+CSQ: /, shape: /^\+CSQ: (\d|[12]\d|3[01]),99$/ },
  {
    t: "20", send: "AT+QIACT?", real: /^\+QIACT: /, shape: /^\+QIACT: 1,1,1,"\d+\.\d+\.\d+\.\d+"$/,
    before: async () => { expect(await port.command("at+qiact=1")).toBe("at+qiact=1\r\r\nOK\r\n"); },
  },
  {
    t: "20", send: "AT+CGDCONT?", real: /^\+CGDCONT: 1,/, shape: /^\+CGDCONT: 1,"IP","internet","0\.0\.0\.0",0,0,0,0$/,
    before: async () => { expect(await port.command('AT+CGDCONT=1,"IP","internet"')).toBe('AT+CGDCONT=1,"IP","internet"\r\r\nOK\r\n'); },
  },
  { t: "24", send: "AT+QGMR", real: /^EG25GGBR/, shape: /^E[CG]25[A-Z0-9]{12,14}_\d+\.\d+\.\d+\.\d+$/ },
  { t: "24", send: 'AT+QCFG="band"', real: /^\+QCFG: "band"/, shape: /^\+QCFG: "band",0x[0-9a-f]+,0x[0-9a-f]+,0x[0-9a-f]+$/ },
  { t: "28", send: "AT+QTEMP", real: /^\+QTEMP: /, shape: /^\+QTEMP: \d+,\d+,\d+$/ },
  { t: "28", send: "AT+qnwinfo", real: /^\+QNWINFO: /, shape: /^\+QNWINFO: "FDD LTE","\d{5,6}","LTE BAND \d+",\d+$/ },
  {
    t: "28", send: 'AT+qeng="servingcell"', real: /^\+QENG: /,
    shape: /^\+QENG: "servingcell","(NOCONN|CONNECT)","LTE","FDD",\d{3},\d{2,3},[0-9A-F]+,\d+,\d+,\d+,[0-5],[0-5],[0-9A-F]+,-\d+,-\d+,-\d+,-?\d+,(-|\d+)$/,
  },
  { t: "37", send: 'AT+QCFG="urc/cache"', real: /\+QCFG: "urc\/cache"/, shape: /\+QCFG: "urc\/cache",[01]/ },
  { t: "37", send: 'AT+QURCCFG="urcport"', real: /\+QURCCFG: "urcport"/, shape: /\+QURCCFG: "urcport","(usbat|usbmodem|uart1|all)"/ },
];

describe("AT answers have the transcripts' shape", () => {
  for (const row of ROWS) {
    test(`[T ${row.t}] ${row.send}`, async () => {
      const real = quote(row.t, row.real);
      const realLine = (real.match(row.shape) ?? [""])[0];
      expect(realLine).not.toBe(""); // the shape describes the real device output
      await row.before?.();
      const answer = await port.command(row.send);
      // Framing [T 03]: echo incl. CR, "\r\n<lines>\r\n", blank line, "OK".
      expect(answer).toMatch(new RegExp(`^${row.send.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\r\\r\\n[^\\r]+(\\r\\n[^\\r]+)*\\r\\n\\r\\nOK\\r\\n$`));
      const lines = infoLines(answer, row.send);
      const simLine = lines.find((l) => row.shape.test(l));
      expect(simLine ?? lines.join(" | ")).toMatch(row.shape);
      expect(layout(simLine!)).toBe(layout(realLine));
    });
  }

  test("[T 01] ATI has Quectel / EC25 / Revision lines", async () => {
    const t = transcript("01");
    expect(t).toContain("ATI\nQuectel\nEC25\nRevision: ");
    const answer = await port.command("ATI");
    expect(infoLines(answer, "ATI").slice(0, 2)).toEqual(["Quectel", "EC25"]);
  });

  test("[T 01, T 20] a bare AT answers OK; a typo answers ERROR", async () => {
    expect(transcript("01")).toContain("at\nOK");
    expect(await port.command("at")).toBe("at\r\r\nOK\r\n");
    expect(transcript("20")).toContain("at+aicsgp\nERROR");
    expect(await port.command("at+aicsgp")).toBe("at+aicsgp\r\r\nERROR\r\n");
    expect(transcript("20")).toContain('at+qping="8.8.8.8",1,1\nERROR');
    expect(await port.command('at+qping="8.8.8.8",1,1')).toBe('at+qping="8.8.8.8",1,1\r\r\nERROR\r\n');
  });

  test("[T 20] garbage left in the buffer turns the next AT into ERROR", async () => {
    expect(transcript("20")).toContain("Serial port COM13 opened\nat\nERROR");
    port.buf = "";
    port.write("~#");
    await port.waitFor((b) => b === "~#", 1000, "echo of the junk");
    expect(await port.command("at")).toBe("at\r\r\nERROR\r\n");
    expect(await port.command("at")).toBe("at\r\r\nOK\r\n");
  });

  test("[T 07, T 20] set commands answer a bare OK; AT+CGCONTRDP without a call is OK", async () => {
    expect(transcript("07")).toContain('AT+CGDCONT=1,"IP","super"\nOK');
    expect(await port.command('AT+CGDCONT=1,"IP","super"')).toBe('AT+CGDCONT=1,"IP","super"\r\r\nOK\r\n');
    expect(transcript("20")).toContain('AT+QICSGP=1,1,"airtelgprs.com","","",1\nOK');
    expect(await port.command('AT+QICSGP=1,1,"airtelgprs.com","","",1')).toBe('AT+QICSGP=1,1,"airtelgprs.com","","",1\r\r\nOK\r\n');
    expect(transcript("07")).toContain("AT+CGCONTRDP\nOK");
    expect(await port.command("AT+CGCONTRDP")).toBe("AT+CGCONTRDP\r\r\nOK\r\n");
    expect(transcript("37")).toContain("Successfully sent command: AT+QSCLK=1");
    expect(await port.command("AT+QSCLK=1")).toBe("AT+QSCLK=1\r\r\nOK\r\n");
  });

  test("[T 37] eg25-manager's view of an answer: <info>\\r\\n\\r\\nOK", async () => {
    const real = quote("37", /Response: \[\+QCFG: "urc\/cache"/);
    expect(real).toContain('+QCFG: "urc/cache",0\\r\\n\\r\\nOK]');
    expect(await port.command('AT+QCFG="urc/cache"')).toContain('+QCFG: "urc/cache",0\r\n\r\nOK\r\n');
  });

  test("[T 20] AT+CFUN=0 then =1: OK, then +CPIN: READY, +QUSIM: 1, +QIND: SMS DONE, +QIND: PB DONE", async () => {
    expect(transcript("20")).toContain("at+cfun=1\nOK\n\n+CPIN: READY\n\n+QUSIM: 1\n\n+QIND: SMS DONE\n\n+QIND: PB DONE");
    expect(await port.command("at+cfun=0")).toBe("at+cfun=0\r\r\nOK\r\n");
    expect(await port.command("at+cfun=1")).toBe("at+cfun=1\r\r\nOK\r\n");
    const urcs = await port.waitFor((b) => b.includes("+QIND: PB DONE\r\n"), 2000, "SIM burst");
    expect(urcs).toBe("at+cfun=1\r\r\nOK\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n");
    // [T 20]: right after CFUN=1 the operator is not there yet: +COPS: 0, later the full answer.
    expect(transcript("20")).toContain("at+cops?\n+COPS: 0\n\nOK");
    expect(await port.command("at+cops?")).toBe("at+cops?\r\r\n+COPS: 0\r\n\r\nOK\r\n");
    await lab.ready(3000);
  });
});

/** Bytes of the "RECEIVED frame" hex dumps of a gammu log [T 03, T 04]. */
function gammuFrames(num: string): string[] {
  const frames: string[] = [];
  let cur: number[] | undefined;
  for (const raw of transcript(num).split("\n")) {
    const line = raw.replace(/^> .*?gammu: /, "");
    if (/RECEIVED frame type/.test(line)) { cur = []; frames.push(""); continue; }
    if (cur && /^[0-9A-F]{2}.(\|[0-9A-F]{2}.)*/.test(line)) {
      for (const tok of line.split("|")) cur.push(parseInt(tok.slice(0, 2), 16));
      frames[frames.length - 1] = Buffer.from(cur).toString("latin1");
      continue;
    }
    cur = undefined;
  }
  return frames;
}

describe("byte-exact against gammu hex dumps", () => {
  test("[T 03] AT+CGMR and AT+CGMI, echo included", async () => {
    const [cgmr, cgmi] = gammuFrames("03");
    expect(cgmr).toBe("AT+CGMR\r\r\nEC25EFAR06A04M4G\r\n\r\nOK\r\n");
    const sim = await port.command("AT+CGMR");
    expect(sim.replace(lab.modems[0]!.firmware, "<REV>")).toBe(cgmr!.replace("EC25EFAR06A04M4G", "<REV>"));
    expect(await port.command("AT+CGMI")).toBe(cgmi!);
  });

  test("[T 04] unsupported command: bare ERROR; AT+CMEE=1: OK", async () => {
    const [frame] = gammuFrames("04");
    expect(frame).toBe("AT+MODE=2\r\r\nERROR\r\n");
    expect(await port.command("AT+MODE=2")).toBe(frame!);
    expect(transcript("04")).toContain('1 "AT+CMEE=1"');
    expect(await port.command("AT+CMEE=1")).toBe("AT+CMEE=1\r\r\nOK\r\n");
  });
});

describe("boot URCs [T 37]", () => {
  test("after AT+CFUN=1,1 the re-opened port sees RDY, +CPIN: READY, +QUSIM: 1, +CFUN, +QIND: SMS DONE in that order", async () => {
    const t = transcript("37");
    const realOrder = ["RDY", "+CPIN: READY", "+QUSIM: 1", "+CFUN:", "+QIND: SMS DONE"];
    const positions = realOrder.map((u) => t.indexOf(`Response: [${u}`));
    expect(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1]!))).toBe(true);
    const m = lab.list()[1]!;
    const p = new HostPort(m.at!);
    expect(await p.command("AT+CFUN=1,1")).toBe("AT+CFUN=1,1\r\r\nOK\r\n");
    await p.ended;
    await p.close();
    await lab.waitFor(() => fs.existsSync(m.at!), 5000, "port back");
    const again = new HostPort(m.at!);
    try {
      const seen = await again.waitFor((b) => b.includes("+QIND: PB DONE"), 3000, "boot URCs");
      const lines = seen.split("\r\n").filter((l) => l !== "");
      const simOrder = realOrder.map((u) => lines.findIndex((l) => l.startsWith(u)));
      expect(simOrder.every((p, i) => p >= 0 && (i === 0 || p > simOrder[i - 1]!))).toBe(true);
      expect(seen).toMatch(/^\r\nRDY\r\n/);
    } finally {
      await again.close();
    }
  });
});

/** "~$ sudo qmicli …" blocks of a transcript: argv (device dropped) and the printed lines. */
function qmicliBlocks(num: string, prompt: RegExp): { args: string[]; out: string[] }[] {
  const blocks: { args: string[]; out: string[] }[] = [];
  let cur: { args: string[]; out: string[] } | undefined;
  for (const line of transcript(num).split("\n")) {
    const m = prompt.exec(line);
    if (m) {
      cur = undefined;
      const rest = line.slice(m[0].length);
      if (!/^sudo qmicli /.test(rest)) continue;
      const tokens = [...rest.matchAll(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g)].map((x) => x[0].replace(/"([^"]*)"/g, "$1").replace(/^'([^']*)'$/, "$1"));
      const args = tokens.slice(2).filter((_, i, a) => a[i] !== "-d" && a[i - 1] !== "-d");
      cur = { args, out: [] };
      blocks.push(cur);
      continue;
    }
    if (cur && line.trim() !== "" && line.trim() !== "...") cur.out.push(line);
    else if (cur && line.trim() === "") cur = undefined;
  }
  return blocks;
}

/** Masks what differs between runs: device path, numbers in quotes, addresses, MTU. */
function mask(line: string): string {
  return line.replace(/^\[[^\]]+\]/, "[DEV]").replace(/\d+\.\d+\.\d+\.\d+/g, "IP").replace(/'\d+'/g, "'N'").replace(/: \d+$/, ": N");
}

describe("qmicli sessions, through the lab qmicli executable", () => {
  async function qmicli(args: string[], slot = 2) {
    return runAsync([lab.info.qmicli, "-d", lab.list()[slot]!.qmi!, ...args]);
  }

  test("[T 26] raw-ip → start-network → get-current-settings → stop-network", async () => {
    const blocks = qmicliBlocks("26", /^~\$ /);
    expect(blocks.map((b) => b.args[0])).toEqual([
      "--set-expected-data-format=raw-ip", "--wds-start-network=apn=internet,ip-type=4", "--wds-get-current-settings", "--wds-stop-network=744952640",
    ]);
    const [fmt, start, settings, stop] = blocks;
    const r1 = await qmicli(fmt!.args);
    expect(r1.stdout.trimEnd().split("\n").map(mask)).toEqual(fmt!.out.map(mask));
    const r2 = await qmicli(start!.args);
    expect(r2.code).toBe(0);
    expect(r2.stdout.trimEnd().split("\n").map(mask)).toEqual(start!.out.map(mask));
    const pdh = /Packet data handle: '(\d+)'/.exec(r2.stdout)![1]!;
    const cid = /CID: '(\d+)'/.exec(r2.stdout)![1]!;
    const r3 = await qmicli(["--wds-get-current-settings", "--client-no-release-cid", `--client-cid=${cid}`]);
    expect(r3.stdout.trimEnd().split("\n").map(mask)).toEqual(settings!.out.map(mask));
    const r4 = await qmicli([`--wds-stop-network=${pdh}`, `--client-cid=${cid}`]);
    expect(r4.code).toBe(0);
    expect(r4.stdout.trimEnd().split("\n").map(mask)).toEqual(stop!.out.map(mask));
    expect(lab.list()[2]!.qmi_clients.wds).toEqual([]);
  });

  test("[T 05] operating mode, data format, start-network with -p and --device-open-net", async () => {
    const blocks = qmicliBlocks("05", /^pi@lte:~ \$ /);
    const byAction = (a: string) => blocks.find((b) => b.args.some((x) => x.startsWith(a)))!;
    const mode = byAction("--dms-get-operating-mode");
    const r1 = await qmicli(mode.args);
    expect(r1.stdout.trimEnd().split("\n").map(mask)).toEqual(mode.out.map(mask));
    const wda = byAction("--wda-get-data-format");
    const r2 = await qmicli(wda.args);
    // The blog elides the tail ("..."): the lines it shows must be the first lines, verbatim.
    expect(r2.stdout.split("\n").slice(0, wda.out.length).map(mask)).toEqual(wda.out.map(mask));
    const start = byAction("--wds-start-network");
    expect(start.args).toContain("-p");
    const r3 = await qmicli(start.args);
    expect(r3.code).toBe(0);
    expect(r3.stdout.trimEnd().split("\n").map(mask)).toEqual(start.out.map(mask));
    const cid = /CID: '(\d+)'/.exec(r3.stdout)![1]!;
    await qmicli(["--wds-noop", `--client-cid=${cid}`]); // releases the client and ends its call
    await lab.waitFor(() => lab.list()[2]!.session === null, 2000, "call ended with its client");
  });
});
