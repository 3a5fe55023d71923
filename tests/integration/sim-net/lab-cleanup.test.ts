/**
 * Crashed labs: a child process builds a lab and is SIGKILLed (no destroy, no exit hook). cleanupLabs must remove
 * every object by name; a lab whose owner still runs is left alone unless forced; a new lab with a crashed lab's id
 * builds over the leftovers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Subprocess } from "bun";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/lib/exec.ts";
import { canBuildLab, cleanupLabs, createLabNetwork, findLabIds, type LabNetInfo, newLabId } from "../../../src/sim/net/index.ts";
import { readRecord } from "../../../src/sim/net/registry.ts";

const ROOT = canBuildLab();
if (!ROOT) console.warn("[sim-net] skipping lab-cleanup tests: they need root and iproute2 (ip netns, veth)");

const CRASH = join(import.meta.dir, "fixtures", "crash-lab.ts");

interface Child {
  info: LabNetInfo;
  pids: number[];
  proc: Subprocess;
}

/** Starts the fixture and waits for its ready line; the caller decides how it ends. */
async function startLabChild(labId: string, runDir: string, how = ""): Promise<Child> {
  const proc = Bun.spawn([process.execPath, CRASH, labId, runDir, "2", how], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const r = await reader.read();
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  if (!text.includes("\n")) throw new Error(`crash-lab fixture failed: ${await new Response(proc.stderr).text()}`);
  return { ...(JSON.parse(text) as { info: LabNetInfo; pids: number[] }), proc };
}

async function crashLab(labId: string, runDir: string): Promise<{ info: LabNetInfo; pids: number[] }> {
  const child = await startLabChild(labId, runDir);
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  return child;
}

/** Running = exists and is not a zombie (a killed orphan stays a zombie until init reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function traces(labId: string): Promise<string[]> {
  const found: string[] = [];
  if ((await run(["ip", "netns", "list"])).stdout.includes(`ltpx-${labId}-`)) found.push("netns");
  if ((await run(["ip", "link"])).stdout.includes(`ltpx${labId}lan`)) found.push("link");
  if (existsSync(`/etc/netns/ltpx-${labId}-box`)) found.push("/etc/netns");
  if (readRecord(labId)) found.push("record");
  return found;
}

describe.skipIf(!ROOT)("cleanupLabs after a crash", () => {
  let tmp: string;
  const ids: string[] = [];
  const id = () => {
    ids.push(newLabId("c"));
    return ids.at(-1)!;
  };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "sim-net-crash-"));
  });

  afterAll(async () => {
    for (const labId of ids) await cleanupLabs(labId, { force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  test("removes namespaces, veths, processes and files of a killed owner", async () => {
    const labId = id();
    const { info, pids } = await crashLab(labId, tmp);
    expect(pids.length).toBeGreaterThanOrEqual(2); // dnsmasq + echo server outlive their owner
    for (const pid of pids) expect(running(pid)).toBe(true);
    expect(await traces(labId)).toEqual(["netns", "link", "/etc/netns", "record"]);
    expect(existsSync(info.dir!)).toBe(true);
    expect(await findLabIds()).toContain(labId);

    const report = await cleanupLabs(labId);
    expect(report).toEqual({ removed: [labId], skipped: [] });
    expect(await traces(labId)).toEqual([]);
    for (const pid of pids) expect(running(pid)).toBe(false);
    expect(existsSync(info.dir!)).toBe(false);
    expect((await cleanupLabs(labId)).removed).toEqual([]); // nothing left to do
  }, 60_000);

  test("a lab whose owner is alive is skipped unless forced", async () => {
    const labId = id();
    const lab = createLabNetwork("lab", { labId, runDir: tmp });
    await lab.setup(1);
    expect(await cleanupLabs(labId)).toEqual({ removed: [], skipped: [labId] });
    expect(await traces(labId)).toContain("netns");
    expect(await cleanupLabs(labId, { force: true })).toEqual({ removed: [labId], skipped: [] });
    expect(await traces(labId)).toEqual([]);
    await lab.destroy(); // still safe after someone else removed everything
  }, 60_000);

  test("a new lab with a crashed lab's id builds over the leftovers", async () => {
    const labId = id();
    await crashLab(labId, tmp);
    const lab = createLabNetwork("lab", { labId, runDir: tmp });
    try {
      await lab.setup(2);
      const s = await lab.sessionUp(1, { sticky: false });
      expect(s.publicIp).toMatch(/^198\.18\./);
    } finally {
      await lab.destroy();
    }
    expect(await traces(labId)).toEqual([]);
  }, 60_000);

  test("a plain process exit without destroy removes the lab (exit hook)", async () => {
    const labId = id();
    const child = await startLabChild(labId, tmp, "exit");
    expect(await child.proc.exited).toBe(0);
    expect(await traces(labId)).toEqual([]);
    for (const pid of child.pids) expect(running(pid)).toBe(false);
    expect(existsSync(child.info.dir!)).toBe(false);
  }, 60_000);

  test("SIGINT to the owner destroys the lab (destroyOnSignals) and exits 130", async () => {
    const labId = id();
    const child = await startLabChild(labId, tmp, "signals");
    expect(await traces(labId)).toContain("netns");
    child.proc.kill("SIGINT");
    expect(await child.proc.exited).toBe(130);
    expect(await traces(labId)).toEqual([]);
    for (const pid of child.pids) expect(running(pid)).toBe(false);
  }, 60_000);

  test("a second lab object with the same id in one process is refused", async () => {
    const labId = id();
    const a = createLabNetwork("lab", { labId, runDir: tmp });
    const b = createLabNetwork("lab", { labId, runDir: tmp });
    try {
      await a.setup(1);
      await expect(b.setup(1)).rejects.toMatchObject({ code: "LAB_IN_USE" });
      expect(await traces(labId)).toContain("netns"); // b's failure did not tear down a's lab
    } finally {
      await a.destroy();
      await b.destroy();
    }
  }, 60_000);
});
