/**
 * Shared rig for the modem control-plane tests: a fresh database with registered nodes, simulated labs on real
 * ptys, and ModemManagers with test timings. `stop()` tears down everything the rig made, in reverse order
 * (call it in afterAll).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Sql } from "../../../src/db/client.ts";
import { registerNode } from "../../../src/db/queries/nodes.ts";
import { ModemManager, type ModemManagerOptions } from "../../../src/modem/manager.ts";
import { startSimLab, type SimLab, type SimLabOptions } from "../../../src/sim/lab.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

/** AT timeouts short enough for a hung modem to show within seconds, long enough for 30 modems on 2 cores. */
export const TEST_CHANNEL = {
  hangupPollMs: 50, resyncTimeoutMs: 400, resyncQuietMs: 30, resyncAttempts: 2,
  timeouts: { defaultMs: 1500, rules: [{ prefix: "AT+CPIN", ms: 1500 }] },
};

export const TEST_TIMINGS = { pollMs: 400, fastPollMs: 100, degradedAfter: 2, retryMs: 50, startupGraceMs: 3000, lockWaitMs: 3000 };

/** Lab defaults: fast, no control socket, and no signal drift so that values can be compared exactly. */
export const TEST_LAB: SimLabOptions = { modems: 3, timeScale: 0.01, control: { socket: false }, timings: { driftMs: 10_000_000 } };

export interface Rig {
  db: TestDb;
  sql: Sql;
  /** A temp dir removed at stop(). */
  tmp: string;
  startLab(opts?: SimLabOptions): Promise<SimLab>;
  newManager(lab: { deviceDir: string; sysfsRoot: string; devRoot?: string }, opts?: Partial<ModemManagerOptions>): ModemManager;
  /** Runs at stop(), before the earlier cleanups. */
  defer(fn: () => Promise<unknown> | unknown): void;
  stop(): Promise<void>;
}

export async function startRig(nodeIds: string[] = ["node-a"]): Promise<Rig> {
  const db = await createTestDb({ prefix: "modem" });
  for (const id of nodeIds) await registerNode(db.sql, { id, hostname: id, version: "test" });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lteproxy-modem-"));
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => db.drop(), () => fs.rmSync(tmp, { recursive: true, force: true })];
  const rig: Rig = {
    db, sql: db.sql, tmp,
    defer: (fn) => cleanups.push(fn),
    async startLab(opts = {}) {
      const lab = await startSimLab({ ...TEST_LAB, ...opts, timings: { ...TEST_LAB.timings, ...opts.timings } });
      cleanups.push(() => lab.stop());
      return lab;
    },
    newManager(lab, opts = {}) {
      const m = new ModemManager({
        sql: db.sql, nodeId: nodeIds[0]!, deviceDir: lab.deviceDir, sysfsRoot: lab.sysfsRoot, devRoot: lab.devRoot,
        channel: TEST_CHANNEL, ...TEST_TIMINGS, ...opts,
      });
      cleanups.push(() => m.stop());
      return m;
    },
    async stop() {
      for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch(() => undefined);
    },
  };
  return rig;
}

/** Polls an async or sync condition until it holds; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 15_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await Bun.sleep(stepMs);
  }
}

export interface StateEventRow {
  seq: number;
  from: string | null;
  to: string;
  reason: string;
}

/** The `modem.state` transitions of one modem, in event order. */
export async function stateEvents(sql: Sql, modemId: number): Promise<StateEventRow[]> {
  const rows = await sql`select seq, payload from modem_events where modem_id = ${modemId} and kind = 'modem.state' order by seq`;
  return rows.map((r) => ({ seq: Number(r.seq), ...(r.payload as { from: string | null; to: string; reason: string }) }));
}

/** Every event's `from` is the previous event's `to`: the log replays the row's history without gaps. */
export function chained(events: StateEventRow[]): boolean {
  return events.every((e, i) => (i === 0 ? e.from === null : e.from === events[i - 1]!.to));
}

export async function modemRow(sql: Sql, nodeId: string, imei: string) {
  const rows = await sql`select * from modems where node_id = ${nodeId} and imei = ${imei}`;
  return rows[0] as Record<string, unknown> | undefined;
}

export function iccidDigits(iccid: string): string {
  return iccid.replace(/F+$/i, "");
}
