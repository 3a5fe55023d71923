/**
 * The proxy supervisor: `apply(desired)` makes the running data plane match the desired per-port config.
 * Backends: `child` (a supervised `lteproxy proxy` process: demo, lab) and `systemd` (units on an appliance).
 */
import type { ProxyConfigInput } from "../engine/config-schema.ts";

export interface DataPlaneStatus {
  alive: boolean;
  /** Config version the engine reports it runs. */
  version?: string | number;
  pid?: number;
  uptimeS?: number;
  detail?: string;
}

export interface ProxySupervisor {
  /** Writes the desired config (atomically) and makes sure the data plane runs it. Idempotent. */
  apply(desired: ProxyConfigInput): Promise<void>;
  status(): Promise<DataPlaneStatus>;
  /** Per-port counters from the engine (bytes, connections, refusals), or null when unreachable. */
  stats(): Promise<unknown | null>;
  /** Stops supervising. `stopDataPlane` also stops the engine (demo exit, `lteproxy down`). */
  stop(opts?: { stopDataPlane?: boolean }): Promise<void>;
}
