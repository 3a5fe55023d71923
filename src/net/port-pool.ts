/**
 * Proxy port and routing table allocation, the pure part. Assignments are stable per IMEI (the lead keeps them in
 * PostgreSQL); this module only decides what a new IMEI gets, given what exists and a probe for ports that some
 * other process already holds. Such a port is skipped and reported, never fought over.
 */
import { createServer } from "node:net";
import { AppError } from "../lib/errors.ts";

export interface NumberRange {
  min: number;
  max: number;
}

export interface PoolRange {
  ports: NumberRange;
  tables: NumberRange;
}

export const DEFAULT_POOL_RANGE: PoolRange = { ports: { min: 3128, max: 4127 }, tables: { min: 100, max: 999 } };

export interface PortAssignment {
  imei: string;
  port: number;
  table: number;
}

export interface AllocateOptions {
  imei: string;
  /** Every stored assignment (all IMEIs ever seen, online or not: they keep their port and table). */
  existing: readonly PortAssignment[];
  range?: PoolRange;
  /** True when nobody listens on the port. Called only for candidate ports, in ascending order. */
  probe?: (port: number) => Promise<boolean>;
}

export interface AllocateResult {
  assignment: PortAssignment;
  /** The IMEI already had an assignment; it is returned unchanged (and not probed: our own proxy may hold it). */
  reused: boolean;
  /** Ports in the range that another process holds, skipped on the way to the chosen one. */
  skippedPorts: number[];
}

function firstFree(range: NumberRange, used: Set<number>): Generator<number> {
  return (function* () {
    for (let n = range.min; n <= range.max; n++) if (!used.has(n)) yield n;
  })();
}

function checkRange(r: NumberRange, what: string, lo: number, hi: number): void {
  if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < lo || r.max > hi || r.min > r.max) {
    throw new AppError("POOL_RANGE_INVALID", `invalid ${what} range ${r.min}-${r.max}`, { range: r });
  }
}

/**
 * Returns the IMEI's assignment: the stored one if any, else the lowest free table and the lowest port that is
 * neither assigned nor held by another process. Throws POOL_EXHAUSTED when a range has nothing left.
 */
export async function allocate({ imei, existing, range = DEFAULT_POOL_RANGE, probe = async () => true }: AllocateOptions): Promise<AllocateResult> {
  if (typeof imei !== "string" || imei.trim() === "") throw new AppError("POOL_INVALID_IMEI", "allocate needs an IMEI");
  checkRange(range.ports, "port", 1, 65_535);
  checkRange(range.tables, "table", 1, 0x7fff_ffff);
  const own = existing.find((a) => a.imei === imei);
  if (own) return { assignment: { ...own }, reused: true, skippedPorts: [] };

  const table = firstFree(range.tables, new Set(existing.map((a) => a.table))).next();
  if (table.done) {
    throw new AppError("POOL_EXHAUSTED", `no free routing table in ${range.tables.min}-${range.tables.max}`, { kind: "table", imei });
  }
  const skippedPorts: number[] = [];
  for (const port of firstFree(range.ports, new Set(existing.map((a) => a.port)))) {
    if (await probe(port)) return { assignment: { imei, port, table: table.value }, reused: false, skippedPorts };
    skippedPorts.push(port);
  }
  throw new AppError("POOL_EXHAUSTED", `no free proxy port in ${range.ports.min}-${range.ports.max}`, {
    kind: "port", imei, skippedPorts,
  });
}

/**
 * True when `host:port` can be bound right now (listens for a moment, then closes). EADDRINUSE and EACCES mean
 * "held"; any other error (bad host) throws PORT_PROBE_FAILED.
 */
export function probePortFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      server.close();
      if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
      else reject(new AppError("PORT_PROBE_FAILED", `cannot probe ${host}:${port}: ${error.message}`, { port, host }, { cause: error }));
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
