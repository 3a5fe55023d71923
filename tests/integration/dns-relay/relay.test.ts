/**
 * `lteproxy dns-relay` on a real routing topology (root, ip netns, dnsmasq). A "box" namespace runs the relay; two
 * modem links (veths) lead to two carrier namespaces whose dnsmasq both listen on the SAME address 10.53.0.1 and
 * answer echo.lab differently; the box routes `from <modem ip>` through per-modem tables (default via the modem, an
 * `unreachable default` behind it). The box's main table has a default route to a third namespace that also serves
 * 10.53.0.1: the leak trap. Anything unbound or falling back would show up there.
 *
 *   box ──m1──e1── carrier1 (10.53.0.1 → echo.lab = 10.0.1.1)
 *       ──m2──e2── carrier2 (10.53.0.1 → echo.lab = 10.0.2.1)
 *       ──u0──e0── uplink   (10.53.0.1 → echo.lab = 10.0.9.9, must never be asked)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayListenAddress } from "../../../src/proxy/dns-relay/address.ts";
import { writeDnsRelayFile } from "../../../src/proxy/dns-relay/config-file.ts";
import type { DnsRelayEntry } from "../../../src/proxy/dns-relay/relay.ts";
import { inNs, ipn, isRoot, NetnsSet, sh, uniqueId } from "../net/helpers/netns-lab.ts";

const HERE = import.meta.dir;
const canRun = isRoot && Bun.which("dnsmasq") !== null && sh(["ip", "netns", "list"], { check: false }).code === 0;
if (!canRun) console.warn("SKIPPED dns-relay netns tests: need root, ip netns and dnsmasq");

const id = uniqueId("dr");
const ns = { box: `${id}box`, c1: `${id}c1`, c2: `${id}c2`, up: `${id}up` };
const nets = new NetnsSet();
const dir = mkdtempSync(join(tmpdir(), "ltp-dnsrelay-"));
const procs: Array<ReturnType<typeof Bun.spawn>> = [];
let relayProc: ReturnType<typeof Bun.spawn> | undefined;

const MODEM1 = "10.64.1.2";
const MODEM2 = "10.64.2.2";
const PORT1 = 40001;
const PORT2 = 40002;
const PORT3 = 40003;
const entries: DnsRelayEntry[] = [
  { id: "866000000000001", port: PORT1, outAddress: MODEM1, servers: ["10.53.0.1"] },
  { id: "866000000000002", port: PORT2, outAddress: MODEM2, servers: ["10.53.0.1"] },
];
// The relay reads this path; it is a symlink into another directory, so editing the target in place is invisible to
// the relay's directory watch and only SIGHUP can pick it up.
const configDir = join(dir, "run");
const realDir = join(dir, "real");
const configPath = join(configDir, "dns-relay.json");
const realPath = join(realDir, "dns-relay.json");

function dnsmasq(name: string, answer: string): string {
  const logFile = join(dir, `${name}.log`);
  writeFileSync(logFile, "");
  const p = Bun.spawn(["ip", "netns", "exec", name, "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
    "--bind-interfaces", "--listen-address=10.53.0.1", "--port=53", `--address=/echo.lab/${answer}`, "--log-queries",
    `--log-facility=${logFile}`, "--pid-file=", "--user=root", "--group=root"], { stdout: "ignore", stderr: "ignore" });
  procs.push(p);
  return logFile;
}

/** Queries dnsmasq logged, as "name from source". */
function logged(logFile: string): string[] {
  return readFileSync(logFile, "utf8").split("\n").map((l) => /query\[A\] (\S+) from (\S+)/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]} from ${m![2]}`);
}

let logs: Record<"c1" | "c2" | "up", string>;
const counts = () => ({ c1: logged(logs.c1).length, c2: logged(logs.c2).length, up: logged(logs.up).length });

interface QueryResult {
  rcode?: number;
  addresses?: string[];
  timeout?: boolean;
  ms: number;
}

/** One query from inside the box to the relay of `port`. */
async function query(port: number, name = "echo.lab", timeoutMs = 3000, garbage = 0): Promise<QueryResult> {
  const p = Bun.spawn(["ip", "netns", "exec", ns.box, process.execPath, join(HERE, "query-child.ts"), relayListenAddress(port), name,
    String(timeoutMs), String(garbage)], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  if (!out.trim()) throw new Error(`query-child printed nothing: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as QueryResult;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await Bun.sleep(100);
    v = await fn();
  }
  return v;
}

beforeAll(async () => {
  if (!canRun) return;
  for (const n of Object.values(ns)) nets.add(n);
  nets.veth(ns.box, "m1", ns.c1, "e1");
  nets.veth(ns.box, "m2", ns.c2, "e2");
  nets.veth(ns.box, "u0", ns.up, "e0");
  ipn(ns.box, `addr add ${MODEM1}/30 dev m1`);
  ipn(ns.box, `addr add ${MODEM2}/30 dev m2`);
  ipn(ns.box, "addr add 10.99.0.2/30 dev u0");
  ipn(ns.box, "route add default via 10.99.0.1 dev u0");
  for (const [n, modem, dev, table] of [[1, MODEM1, "m1", 101], [2, MODEM2, "m2", 102]] as const) {
    ipn(ns.box, `route add default via 10.64.${n}.1 dev ${dev} table ${table}`);
    ipn(ns.box, `route add unreachable default metric 4000 table ${table}`);
    ipn(ns.box, `rule add from ${modem} lookup ${table} pref ${1000 + n}`);
  }
  ipn(ns.c1, "addr add 10.64.1.1/30 dev e1");
  ipn(ns.c2, "addr add 10.64.2.1/30 dev e2");
  ipn(ns.up, "addr add 10.99.0.1/30 dev e0");
  for (const n of [ns.c1, ns.c2, ns.up]) ipn(n, "addr add 10.53.0.1/32 dev lo");
  logs = { c1: dnsmasq(ns.c1, "10.0.1.1"), c2: dnsmasq(ns.c2, "10.0.2.1"), up: dnsmasq(ns.up, "10.0.9.9") };

  mkdirSync(configDir);
  mkdirSync(realDir);
  writeDnsRelayFile(realPath, { version: "v1", entries });
  symlinkSync(realPath, configPath);
  relayProc = Bun.spawn(["ip", "netns", "exec", ns.box, process.execPath, join(HERE, "cli-child.ts"), "--config", configPath, "--timeout-ms", "700"],
    { stdout: "ignore", stderr: "pipe", env: { ...process.env, LTEPROXY_LOG_LEVEL: "silent" } });
  procs.push(relayProc);
  // dnsmasq and the relay are up once relay 1 answers.
  const first = await until(() => query(PORT1, "echo.lab", 1000), (r) => r.rcode === 0);
  if (first.rcode !== 0) throw new Error(`relay never answered: ${JSON.stringify(first)}`);
}, 30_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  nets.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!canRun)("dns-relay through two modems with the same carrier DNS address", () => {
  test("the main table really leads to the trap (an unbound query would be answered there)", () => {
    const route = inNs(ns.box, ["ip", "route", "get", "10.53.0.1"]).stdout;
    expect(route).toContain("dev u0");
    expect(inNs(ns.box, ["ip", "route", "get", "10.53.0.1", "from", MODEM2]).stdout).toContain("dev m2");
  });

  test("relay 1 asks over modem 1, relay 2 over modem 2; the uplink is never asked", async () => {
    const before = counts();
    const r1 = await query(PORT1);
    const r2 = await query(PORT2);
    expect(r1).toMatchObject({ rcode: 0, addresses: ["10.0.1.1"] });
    expect(r2).toMatchObject({ rcode: 0, addresses: ["10.0.2.1"] });
    expect(logged(logs.c1).at(-1)).toBe(`echo.lab from ${MODEM1}`);
    expect(logged(logs.c2).at(-1)).toBe(`echo.lab from ${MODEM2}`);
    expect(counts()).toEqual({ c1: before.c1 + 1, c2: before.c2 + 1, up: 0 });
  });

  test("garbage datagrams: no crash, the next query still works", async () => {
    const r = await query(PORT1, "echo.lab", 3000, 40);
    expect(r).toMatchObject({ rcode: 0, addresses: ["10.0.1.1"] });
    expect(relayProc!.exitCode).toBeNull();
    expect(counts().up).toBe(0);
  });

  test("SIGHUP reloads an edited file (a new modem entry)", async () => {
    // In-place edit of the symlink target: no event in the watched directory, so only the signal can reload it.
    const extra = { id: "866000000000003", port: PORT3, outAddress: MODEM1, servers: ["10.53.0.1"] };
    writeFileSync(realPath, JSON.stringify({ version: "v2", entries: [...entries, extra] }));
    await Bun.sleep(300);
    expect(await query(PORT3, "echo.lab", 500)).toMatchObject({ timeout: true });
    relayProc!.kill("SIGHUP");
    const r = await until(() => query(PORT3, "echo.lab", 1000), (x) => x.rcode === 0);
    expect(r).toMatchObject({ rcode: 0, addresses: ["10.0.1.1"] });
  });

  test("a broken file is refused and the last good config stays; an atomic replace is picked up by itself", async () => {
    writeFileSync(realPath, "{ not json");
    relayProc!.kill("SIGHUP");
    await Bun.sleep(300);
    expect(await query(PORT3)).toMatchObject({ rcode: 0 });
    // Replace the symlink itself by an atomically written file: the directory watch sees the rename.
    rmSync(configPath);
    writeDnsRelayFile(configPath, { version: "v3", entries });
    const gone = await until(() => query(PORT3, "echo.lab", 400), (x) => x.timeout === true);
    expect(gone.timeout).toBe(true);
    expect(await query(PORT1)).toMatchObject({ rcode: 0, addresses: ["10.0.1.1"] });
  });

  test("modem 2's link down: SERVFAIL fast, nothing reaches any server", async () => {
    const before = counts();
    ipn(ns.box, "link set m2 down");
    try {
      const r = await query(PORT2, "echo.lab", 5000);
      expect(r).toMatchObject({ rcode: 2 });
      expect(r.ms).toBeLessThan(2000);
      await Bun.sleep(200);
      expect(counts()).toEqual(before);
      // Modem 1 is unaffected.
      expect(await query(PORT1)).toMatchObject({ rcode: 0, addresses: ["10.0.1.1"] });
    } finally {
      ipn(ns.box, "link set m2 up");
      ipn(ns.box, "route replace default via 10.64.2.1 dev m2 table 102", false);
    }
    expect(await until(() => query(PORT2, "echo.lab", 1000), (x) => x.rcode === 0)).toMatchObject({ addresses: ["10.0.2.1"] });
  });

  test("modem 2's address gone (EADDRNOTAVAIL): SERVFAIL fast, nothing reaches any server", async () => {
    const before = counts();
    ipn(ns.box, `addr del ${MODEM2}/30 dev m2`);
    const r = await query(PORT2, "echo.lab", 5000);
    expect(r).toMatchObject({ rcode: 2 });
    expect(r.ms).toBeLessThan(2000);
    await Bun.sleep(200);
    expect(counts()).toEqual(before);
    expect(counts().up).toBe(0);
  });

  test("SIGTERM stops the relay with exit code 0", async () => {
    relayProc!.kill("SIGTERM");
    expect(await relayProc!.exited).toBe(0);
  });
});

