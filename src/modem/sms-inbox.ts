/**
 * The SMS inbox of one node: every received SMS ends up in sms_messages (with an `sms.received` event for the panel)
 * and off the SIM. It follows the modem manager: when a modem's port is identified it subscribes to that port's
 * URCs and sweeps its storage; `+CMTI: "SM",<i>` (AT+CNMI=2,1, set by the init sequence, ec25.md §4.6) moves that one
 * message; `+QIND: SMS DONE` (SMS storage ready after boot, §3.5) and a periodic sweep catch what arrived while
 * nobody listened (control plane down, URC lost, port reopened).
 *
 *   const inbox = startSmsInbox({ sql, nodeId, manager });   // after new ModemManager(), before or after start()
 *   await inbox.stop();                                        // before manager.stop()
 *
 * Work on one modem runs one task at a time (the AT engine serialises commands anyway; this keeps a sweep and a
 * +CMTI read from racing over the same slot). Nothing here throws into the manager: failures are logged and the
 * next sweep retries.
 */
import { hasCode } from "../lib/errors.ts";
import { childLogger, type Logger } from "../lib/logger.ts";
import type { Sql } from "../db/client.ts";
import { storeIncomingSms, type IncomingSms, type StoredIncoming } from "../db/queries/sms.ts";
import type { AtChannel } from "./at/types.ts";
import type { ModemDriver } from "./driver-types.ts";
import type { ManagedModem, ModemManager } from "./manager.ts";
import { ingestIndex, parseCmtiUrc, sweepSms, type SmsIngestDeps, type SweepReport } from "./sms-ingest.ts";

export interface SmsInboxOptions {
  sql: Sql;
  nodeId: string;
  manager: Pick<ModemManager, "on" | "driver" | "list">;
  /** Full sweep of every modem's storage (default 5 min). */
  sweepMs?: number;
  /** First sweep after a port is identified (default 3 s): the init sequence (CMGF, CNMI) and SIM init run first. */
  firstSweepDelayMs?: number;
  /** Retry after a failed sweep (SIM busy, port resyncing; default 30 s). */
  retryMs?: number;
  /** Replaces storeIncomingSms (tests). */
  store?: (m: IncomingSms) => Promise<StoredIncoming>;
}

type Task = { kind: "sweep" } | { kind: "index"; index: number };

interface Attached {
  modemId: number;
  driver: ModemDriver;
  deps: SmsIngestDeps;
  log: Logger;
  off: Array<() => void>;
  chain: Promise<void>;
  /** A sweep is queued and not started yet: further sweeps and +CMTI reads are covered by it. */
  sweepQueued: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

const log = childLogger("sms");

export class SmsInbox {
  private readonly attached = new Map<number, Attached>();
  private readonly off: Array<() => void> = [];
  private interval: ReturnType<typeof setInterval> | null = null;
  private running = false;
  /** Totals since start (tests, metrics). */
  readonly totals: SweepReport = { stored: 0, duplicates: 0, skipped: 0, failed: 0 };

  constructor(private readonly opts: SmsInboxOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.off.push(this.opts.manager.on("identified", (m) => this.follow(m)));
    this.off.push(this.opts.manager.on("state", (e) => {
      if (e.to === "unplugged") this.detach(e.modemId);
    }));
    // Modems identified before start().
    for (const m of this.opts.manager.list()) if (m.present) this.follow(m);
    const every = this.opts.sweepMs ?? 300_000;
    this.interval = setInterval(() => {
      for (const a of this.attached.values()) this.enqueue(a, { kind: "sweep" });
    }, every);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.interval) clearInterval(this.interval);
    for (const off of this.off.splice(0)) off();
    const chains = [...this.attached.values()].map((a) => a.chain);
    for (const id of [...this.attached.keys()]) this.detach(id);
    await Promise.all(chains);
  }

  /** Sweeps now (all attached modems, or one) and waits for it; the reports of the sweeps that ran. */
  async sweepNow(modemId?: number): Promise<SweepReport[]> {
    const targets = [...this.attached.values()].filter((a) => modemId === undefined || a.modemId === modemId);
    const reports: SweepReport[] = [];
    await Promise.all(targets.map((a) => this.run(a, async () => {
      const r = await this.sweep(a);
      if (r) reports.push(r);
    })));
    return reports;
  }

  /** The modem ids whose ports the inbox listens to. */
  listening(): number[] {
    return [...this.attached.keys()];
  }

  private follow(m: ManagedModem): void {
    if (!this.running || !m.present) return;
    let driver: ModemDriver;
    try {
      driver = this.opts.manager.driver(m.id);
    } catch {
      return;
    }
    const cur = this.attached.get(m.id);
    if (cur?.driver === driver) return; // identified again (SIM identity re-read): same port
    if (cur) this.detach(m.id);
    const channel: AtChannel = driver.channel;
    const mlog = log.child({ modemId: m.id });
    const store = this.opts.store ?? ((row: IncomingSms) => storeIncomingSms(this.opts.sql, this.opts.nodeId, row));
    const a: Attached = {
      modemId: m.id, driver, log: mlog, off: [], chain: Promise.resolve(), sweepQueued: false, timer: null,
      deps: { modemId: m.id, driver, store, log: mlog },
    };
    this.attached.set(m.id, a);
    a.off.push(channel.onUrc((line) => this.onUrc(a, line)));
    a.off.push(channel.onClose(() => {
      if (this.attached.get(m.id) === a) this.detach(m.id);
    }));
    this.later(a, this.opts.firstSweepDelayMs ?? 3_000);
  }

  private detach(modemId: number): void {
    const a = this.attached.get(modemId);
    if (!a) return;
    this.attached.delete(modemId);
    for (const off of a.off.splice(0)) off();
    if (a.timer) clearTimeout(a.timer);
    a.timer = null;
  }

  private onUrc(a: Attached, line: string): void {
    if (/^\+CMTI:/i.test(line)) {
      const cmti = parseCmtiUrc(line);
      // A garbled +CMTI still says "something arrived": sweep instead of guessing the index.
      if (!cmti) {
        a.log.warn({ line: line.slice(0, 80) }, "unreadable +CMTI; sweeping the storage");
        this.enqueue(a, { kind: "sweep" });
      } else if (cmti.storage !== "SM" && cmti.storage !== "ME" && cmti.storage !== "MT") {
        this.enqueue(a, { kind: "sweep" });
      } else {
        this.enqueue(a, { kind: "index", index: cmti.index });
      }
    } else if (/^\+QIND:\s*SMS DONE/i.test(line)) {
      this.enqueue(a, { kind: "sweep" });
    }
  }

  private later(a: Attached, ms: number): void {
    if (a.timer) return;
    a.timer = setTimeout(() => {
      a.timer = null;
      this.enqueue(a, { kind: "sweep" });
    }, ms);
  }

  private enqueue(a: Attached, task: Task): void {
    if (!this.running || this.attached.get(a.modemId) !== a) return;
    if (a.sweepQueued) return; // the queued sweep reads everything there is
    if (task.kind === "sweep") a.sweepQueued = true;
    void this.run(a, async () => {
      if (task.kind === "sweep") {
        a.sweepQueued = false;
        await this.sweep(a);
        return;
      }
      const outcome = await ingestIndex(a.deps, task.index);
      this.count(outcome);
      if (outcome === "failed") this.later(a, this.opts.retryMs ?? 30_000);
    });
  }

  /** Runs `fn` after the modem's previous task; never rejects. */
  private run(a: Attached, fn: () => Promise<void>): Promise<void> {
    const p = a.chain.then(async () => {
      if (this.attached.get(a.modemId) !== a) return;
      try {
        await fn();
      } catch (e) {
        a.log.error({ err: String(e) }, "SMS inbox task failed");
      }
    });
    a.chain = p;
    return p;
  }

  private async sweep(a: Attached): Promise<SweepReport | null> {
    try {
      const r = await sweepSms(a.deps);
      for (const k of ["stored", "duplicates", "skipped", "failed"] as const) this.totals[k] += r[k];
      if (r.stored || r.duplicates || r.failed) a.log.info({ ...r }, "SMS sweep");
      if (r.failed) this.later(a, this.opts.retryMs ?? 30_000);
      return r;
    } catch (e) {
      // SIM not ready yet (+CMS ERROR 310/314), port resyncing, garbage answer: the next sweep retries.
      if (!hasCode(e, "AT_UNPLUGGED") && !hasCode(e, "AT_CLOSED")) {
        a.log.warn({ err: String(e) }, "SMS sweep failed; retrying later");
        this.later(a, this.opts.retryMs ?? 30_000);
      }
      return null;
    }
  }

  private count(outcome: string): void {
    if (outcome === "stored") this.totals.stored++;
    else if (outcome === "duplicate") this.totals.duplicates++;
    else if (outcome === "skipped") this.totals.skipped++;
    else if (outcome === "failed") this.totals.failed++;
  }
}

/** Creates and starts the node's SMS inbox. */
export function startSmsInbox(opts: SmsInboxOptions): SmsInbox {
  const inbox = new SmsInbox(opts);
  inbox.start();
  return inbox;
}
