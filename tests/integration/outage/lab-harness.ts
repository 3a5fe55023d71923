/**
 * The outage tests' lab: simulated modems and the lab network in the test process, the control plane in a child
 * (fixtures/control-plane.ts) so that it can be SIGKILLed or lose PostgreSQL without touching the test runner.
 * The configuration mirrors what src/demo.ts gives startApp.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { createLabNetwork, newLabId, type LabNetwork } from "../../../src/sim/net/index.ts";
import type { AppParts } from "../../../src/app.ts";
import type { ControlPlaneSpec } from "./fixtures/control-plane.ts";
import { lines } from "./lines.ts";

export interface OutageLab {
  lab: SimLab;
  net: LabNetwork;
  spec: ControlPlaneSpec;
  runtimeDir: string;
  stop(): Promise<void>;
}

export async function startOutageLab(o: { modems: number; dataDir: string; databaseUrl: string; timeScale?: number; timings?: Record<string, number> }): Promise<OutageLab> {
  const runtimeDir = join(o.dataDir, "run");
  mkdirSync(runtimeDir, { recursive: true });
  const labId = newLabId("o");
  const net = createLabNetwork("lab", { labId, runDir: runtimeDir });
  const lab = await startSimLab({ modems: o.modems, net, labId, timeScale: o.timeScale ?? 0.05, timings: o.timings });
  const info = net.info();
  const parts: AppParts = {
    netMode: "real", nsExec: ["ip", "netns", "exec", info.boxNs!],
    manager: { devRoot: lab.info.devRoot, pollMs: 10_000, fastPollMs: 1000 },
  };
  const overrides = {
    http: { port: 41000 + Math.floor(Math.random() * 4000) },
    database: { url: o.databaseUrl },
    paths: { data_dir: o.dataDir, runtime_dir: runtimeDir, device_dir: lab.info.deviceDir, sysfs_root: lab.info.sysfsRoot },
    node: { id: "demo" },
    auth: { admin_password: "outage-test-pass" },
    net: { driver: "qmi", qmicli: lab.info.qmicli, netns: info.boxNs!, qmi_data_format: "none" },
    proxy: { listen: "0.0.0.0", public_host: info.lanIp! },
    health: { check_url: `${info.echoUrl}/ip` },
  };
  return { lab, net, runtimeDir, spec: { overrides, parts }, stop: () => lab.stop() };
}

export interface ControlPlaneProcess {
  proc: ReturnType<typeof Bun.spawn>;
  ready: Promise<{ enginePid: number | null; pid: number; url: string }>;
  call<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Lines the child printed that were not replies (uncaught exceptions, unhandled rejections). */
  problems: string[];
}

const FIXTURE = join(import.meta.dir, "fixtures", "control-plane.ts");

export function spawnControlPlane(spec: ControlPlaneSpec, o: { specPath: string; logLevel?: string }): ControlPlaneProcess {
  writeFileSync(o.specPath, JSON.stringify(spec));
  const argv = [process.execPath, FIXTURE, o.specPath];
  const proc = Bun.spawn(argv, {
    stdin: "pipe", stdout: "pipe", stderr: "inherit",
    env: { ...process.env, LTEPROXY_LOG_LEVEL: o.logLevel ?? "silent" },
  });
  const pending = new Map<number, (r: Record<string, unknown>) => void>();
  const problems: string[] = [];
  let nextId = 1;
  let resolveReady!: (v: { enginePid: number | null; pid: number; url: string }) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<{ enginePid: number | null; pid: number; url: string }>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  void (async () => {
    for await (const line of lines(proc.stdout as ReadableStream<Uint8Array>)) {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.rpc === "ready") resolveReady(msg as never);
      else if (msg.rpc === "reply") pending.get(msg.id as number)?.(msg);
      else if (msg.rpc === "uncaught" || msg.rpc === "unhandled") problems.push(`${msg.rpc}: ${msg.message}`);
    }
    rejectReady(new Error(`control plane exited (${await proc.exited}) before it was ready: ${problems.join("; ") || "see stderr"}`));
  })();
  return {
    proc, ready, problems,
    call(cmd, args = {}, timeoutMs = 120_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`control plane: no reply to ${cmd} within ${timeoutMs} ms`)), timeoutMs);
        pending.set(id, (r) => {
          clearTimeout(timer);
          pending.delete(id);
          if (r.ok) resolve(r as never);
          else reject(new Error(`control plane ${cmd}: ${r.error}`));
        });
        (proc.stdin as import("bun").FileSink).write(`${JSON.stringify({ id, cmd, ...args })}\n`);
        (proc.stdin as import("bun").FileSink).flush();
      });
    },
  };
}

/** Polls the child until every modem is online with a public IP; returns the proxy list. */
export async function untilAllOnline(cp: ControlPlaneProcess, modems: number, timeoutMs = 90_000) {
  type Listing = { imei: string; slot: string | null; host: string; port: number; username: string; password: string; state: string; public_ip: string | null };
  const deadline = Date.now() + timeoutMs;
  let list: Listing[] = [];
  while (Date.now() < deadline) {
    list = (await cp.call<{ list: Listing[] }>("proxies")).list;
    if (list.length === modems && list.every((p) => p.state === "online" && p.public_ip)) return list;
    await Bun.sleep(300);
  }
  throw new Error(`not all online: ${JSON.stringify(list.map((p) => [p.port, p.state, p.public_ip]))}`);
}
