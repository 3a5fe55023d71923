/**
 * The ingest job: every `intervalMs`, data-plane telemetry into PostgreSQL. Engine builtin: rolled spool files →
 * connection_log, and the stats socket's byte counters → modems.bytes_tx/rx. Engine 3proxy: its per-modem logs →
 * connection_log and the logged bytes → modems. Runs never overlap; a failed run (database down) is logged and the
 * next one catches up, because nothing is deleted or advanced before it committed.
 */
import type { Sql } from "../../db/client.ts";
import { childLogger } from "../../lib/logger.ts";
import { ingestPortCounters } from "./port-counters.ts";
import { ingestConnectionLogs, type IngestResult } from "./spool-ingest.ts";
import { ingestThreeProxyLogs } from "./three-proxy-ingest.ts";

export { ingestConnectionLogs, rolledSpoolFiles, type IngestResult, type SpoolIngestOptions } from "./spool-ingest.ts";
export { ingestThreeProxyLogs, threeProxyLogFiles, type ThreeProxyIngestOptions } from "./three-proxy-ingest.ts";
export { ingestPortCounters, counterDeltas, type CounterSample, type CounterDelta } from "./port-counters.ts";

const log = childLogger("ingest");

export interface IngestJobOptions {
  sql: Sql;
  nodeId: string;
  engine: "builtin" | "3proxy";
  /** Built-in engine's spool (the engine's logSpoolDir; default `<runtime dir>/connlog`). */
  spoolDir: string;
  /** 3proxy's log directory (default /var/log/3proxy). */
  threeProxyLogDir?: string;
  /** The supervisor's stats(): the built-in engine's GET /stats, or null. */
  stats?: () => Promise<unknown | null>;
  /** Default 15 s: the spool rolls every 60 s, so rows reach the panel within about a minute. */
  intervalMs?: number;
  /**
   * Add proxied bytes to modems.bytes_tx/rx (default true). Exactly one source may own those columns: turn this off
   * when the health sweep counts them from the modem (AT+QGDCNT), or traffic is counted twice.
   */
  countBytes?: boolean;
}

export interface IngestRun {
  logs: IngestResult;
  counters: number;
}

export interface IngestJob {
  /** One run now (also what the timer does); resolves when it finished. */
  runOnce(): Promise<IngestRun>;
  stop(): Promise<void>;
}

/**
 * One ingest run as a named-job body (src/jobs/registry.ts JobSpec.run): never overlapping, returns a short result
 * text for the jobs page. `startIngestJob` below is the same on a plain timer.
 */
export function createIngestRunner(opts: Omit<IngestJobOptions, "intervalMs">): () => Promise<string> {
  const job = makeRunner(opts);
  return async () => {
    const r = await job();
    for (const f of r.logs.failed) log.warn(f, "connection log file left for the next run");
    return `${r.logs.rows} rows from ${r.logs.files} file(s), ${r.logs.garbage} bad line(s), ${r.counters} modem counter(s)` +
      (r.logs.failed.length ? `, ${r.logs.failed.length} file(s) left` : "");
  };
}

function makeRunner(opts: Omit<IngestJobOptions, "intervalMs">): () => Promise<IngestRun> {
  let running: Promise<IngestRun> | undefined;
  async function once(): Promise<IngestRun> {
    if (opts.engine === "3proxy") {
      const logs = await ingestThreeProxyLogs(opts.sql, {
        nodeId: opts.nodeId, logDir: opts.threeProxyLogDir ?? "/var/log/3proxy", countBytes: opts.countBytes,
      });
      return { logs, counters: 0 };
    }
    const logs = await ingestConnectionLogs(opts.sql, { nodeId: opts.nodeId, spoolDir: opts.spoolDir });
    if (opts.countBytes === false) return { logs, counters: 0 };
    const stats = opts.stats ? await opts.stats().catch(() => null) : null;
    const deltas = await ingestPortCounters(opts.sql, { nodeId: opts.nodeId, stats });
    return { logs, counters: deltas.length };
  }
  return () => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** Starts the periodic ingest. The first run happens after one interval; call runOnce() for an immediate one. */
export function startIngestJob(opts: IngestJobOptions): IngestJob {
  const runOnce = makeRunner(opts);
  let stopped = false;
  let current: Promise<IngestRun> | undefined;
  const timer = setInterval(() => {
    if (stopped || current) return;
    current = runOnce();
    current
      .then((r) => {
        if (r.logs.rows || r.logs.garbage || r.logs.failed.length) log.debug(r, "ingested data-plane telemetry");
        for (const f of r.logs.failed) log.warn(f, "connection log file left for the next run");
      })
      .catch((error) => log.warn({ err: (error as Error).message }, "ingest run failed; the next run catches up"))
      .finally(() => {
        current = undefined;
      });
  }, opts.intervalMs ?? 15_000);
  timer.unref?.();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
