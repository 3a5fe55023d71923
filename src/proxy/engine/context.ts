/**
 * What every port and connection shares inside one engine process. Kept in its own file so
 * that connections, ports and the engine do not import each other in a circle.
 */
import type { Logger } from "../../lib/logger.ts";
import type { ProxyTimeouts } from "./config-schema.ts";
import type { ConnLogSpool } from "./conn-log-spool.ts";
import type { PasswordVerifier } from "./password-cache.ts";
import type { SpliceRelay } from "./splice-relay.ts";
import type { Sweeper } from "./sweeper.ts";
import type { TargetPolicy } from "./target-policy.ts";

export interface EngineContext {
  log: Logger;
  verifier: PasswordVerifier;
  sweeper: Sweeper;
  /** Live timeouts (a reload changes them for new waits). */
  timeouts: ProxyTimeouts;
  spool: ConnLogSpool | null;
  /** Which resolved target addresses may be connected to (live; a reload replaces it). */
  targets: TargetPolicy;
  /** Set by stop(): new connections are refused, keep-alive connections close after their response. */
  stopping: boolean;
  /** How long a refused client may keep its side open after our error response (lingering close). */
  lingerMs: number;
  /** Kernel relay for established tunnels and large bodies; null = everything through JS. */
  splice: SpliceRelay | null;
  /** Smallest Content-Length remainder worth handing to the splice relay. */
  spliceBodyMin: number;
  /** Bytes a tunnel relays in JS before it is handed to the splice relay (0 = at once). */
  spliceTunnelMin: number;
}
