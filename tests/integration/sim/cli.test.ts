/**
 * `lteproxy sim` as a process: start → print dirs → `sim ctl list --json` / actions / qmicli from other processes →
 * SIGTERM removes everything. A SIGKILLed lab leaves files that `sim cleanup` (or the next start) removes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { luhnValid } from "../../../src/sim/identity.ts";
import { runAsync } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

const FIXTURE = path.join(import.meta.dir, "sim-cli.fixture.ts");
let registry: string;
const children: Bun.Subprocess[] = [];

beforeAll(() => {
  registry = isolateRegistry("cli");
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const c of children) await c.exited;
  await runAsync([process.execPath, FIXTURE, "cleanup"]);
  removeRegistry(registry);
});

const sim = (...args: string[]) => runAsync([process.execPath, FIXTURE, ...args]);

/** Starts a lab process and waits for its banner; returns the process and the printed fields. */
async function startLab(args: string[]) {
  const child = Bun.spawn([process.execPath, FIXTURE, ...args], { stdout: "pipe", stderr: "pipe", env: process.env });
  children.push(child);
  const reader = child.stdout.getReader();
  let out = "";
  const until = Date.now() + 15_000;
  while (!out.includes("Ctrl-C stops")) {
    if (Date.now() > until) throw new Error(`lab did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`lab exited: ${out}${await new Response(child.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const field = (name: string) => new RegExp(`^  ${name}\\s+(\\S+)`, "m").exec(out)![1]!;
  return { child, out, deviceDir: field("device dir"), sysfsRoot: field("sysfs root"), control: field("control") };
}

test("--help of every subcommand", async () => {
  expect((await sim("--help")).stdout).toContain("Usage: lteproxy sim [options]");
  expect((await sim("ctl", "--help")).stdout).toContain("Usage: lteproxy sim ctl");
  expect((await sim("cleanup", "--help")).stdout).toContain("Usage: lteproxy sim cleanup");
  expect((await sim("qmicli", "--help")).stdout).toContain("--wds-start-network");
  const bad = await sim("--modems", "lots");
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("SIM_BAD_ARGS");
});

test("run, list --json, act, qmicli, SIGTERM removes everything", async () => {
  const lab = await startLab(["--modems", "3", "--time-scale", "0.01", "--seed", "2", "--ctl-port", "0"]);
  expect(fs.readdirSync(lab.deviceDir)).toHaveLength(3);
  // The control API also listens on loopback when asked.
  const url = /and (http:\/\/127\.0\.0\.1:\d+)/.exec(lab.out)![1]!;
  const info = (await (await fetch(`${url}/v1/lab`)).json()) as { modems: number; deviceDir: string };
  expect(info).toMatchObject({ modems: 3, deviceDir: lab.deviceDir });
  expect(fs.existsSync(lab.control)).toBe(true);
  // Registration takes ~60 ms at this time scale.
  await Bun.sleep(300);
  const list = await sim("ctl", "list", "--json");
  expect(list.code).toBe(0);
  const modems = JSON.parse(list.stdout) as Record<string, unknown>[];
  expect(modems).toHaveLength(3);
  for (const m of modems) {
    for (const key of ["slot", "imei", "iccid", "state", "private_ip", "public_ip"]) expect(m).toHaveProperty(key);
    expect(luhnValid(m.imei as string)).toBe(true);
    expect(m.state).toBe("registered");
  }
  const table = await sim("ctl", "list");
  expect(table.stdout.split("\n")[0]).toMatch(/^SLOT\s+IMEI\s+STATE/);

  const act = await sim("ctl", modems[1]!.imei as string, "no-sim");
  expect(act).toMatchObject({ code: 0 });
  expect(act.stdout).toBe(`ok    no-sim ${modems[1]!.slot}\n`);
  const after = JSON.parse((await sim("ctl", "list", "--json")).stdout) as Record<string, unknown>[];
  expect(after[1]!.state).toBe("no-sim");
  expect((await sim("ctl", "all", "signal", "-101")).code).toBe(0);
  const unknown = await sim("ctl", "all", "explode");
  expect(unknown.code).toBe(2);
  const noTarget = await sim("ctl", "pci-nope", "hang");
  expect(noTarget).toMatchObject({ code: 1 });
  expect(noTarget.stderr).toContain("SIM_UNKNOWN_TARGET");

  const qmiPath = path.join(lab.deviceDir, modems[0]!.slot as string, "qmi");
  const ids = await sim("qmicli", "-d", qmiPath, "--dms-get-ids");
  expect(ids.stdout).toContain(`\t   IMEI: '${modems[0]!.imei}'\n`);

  // The control API answers errors as JSON with codes.
  const res = await fetch("http://sim/v1/ctl", { unix: lab.control, method: "POST", body: "{nope" } as RequestInit);
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SIM_BAD_REQUEST");

  lab.child.kill("SIGTERM");
  expect(await lab.child.exited).toBe(0);
  expect(fs.existsSync(lab.deviceDir)).toBe(false);
  expect(fs.existsSync(lab.sysfsRoot)).toBe(false);
  expect(fs.existsSync(lab.control)).toBe(false);
  expect(fs.readdirSync(registry)).toEqual([]);
});

test("a SIGKILLed lab leaves files; `sim cleanup` removes them; a non-empty foreign dir is refused", async () => {
  const lab = await startLab(["--modems", "2", "--time-scale", "0.01"]);
  lab.child.kill("SIGKILL");
  await lab.child.exited;
  expect(fs.existsSync(lab.deviceDir)).toBe(true);
  const clean = await sim("cleanup");
  expect(clean.code).toBe(0);
  expect(clean.stdout).toMatch(/^removed labs: s[a-z0-9]{5}\n/);
  expect(fs.existsSync(lab.deviceDir)).toBe(false);
  expect(fs.readdirSync(registry)).toEqual([]);

  const foreign = fs.mkdtempSync(path.join(registry, "..", "ltpx-simtest-foreign-"));
  fs.writeFileSync(path.join(foreign, "keep.txt"), "not ours");
  try {
    const refused = await sim("--modems", "1", "--device-dir", foreign);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("SIM_DIR_NOT_EMPTY");
    expect(fs.readFileSync(path.join(foreign, "keep.txt"), "utf8")).toBe("not ours");
  } finally {
    fs.rmSync(foreign, { recursive: true, force: true });
  }
});
