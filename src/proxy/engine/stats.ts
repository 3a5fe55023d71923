/**
 * Counters the data plane keeps in memory and serves on its stats socket. All counters are
 * monotonic since engine start (`startedAt`): the control plane takes differences, and a restart
 * shows as a new startedAt rather than as negative traffic.
 */
import type { ResultCode } from "./results.ts";

export interface UserCounters {
  connections: number;
  active: number;
  bytesUp: number;
  bytesDown: number;
}

/** Per-port counters; they live as long as the port is configured (and while it drains). */
export class PortCounters {
  /** Accepted TCP connections (including ones refused later). */
  accepted = 0;
  /** Connections (or HTTP requests) that reached a target. */
  connections = 0;
  active = 0;
  bytesUp = 0;
  bytesDown = 0;
  authFailures = 0;
  refusals: Partial<Record<ResultCode, number>> = {};
  users = new Map<string, UserCounters>();

  /** The counters of a named user, or of "-" (whitelisted, no credentials). */
  user(name: string | null): UserCounters {
    const key = name ?? "-";
    let u = this.users.get(key);
    if (!u) {
      u = { connections: 0, active: 0, bytesUp: 0, bytesDown: 0 };
      this.users.set(key, u);
    }
    return u;
  }

  refuse(code: ResultCode): void {
    this.refusals[code] = (this.refusals[code] ?? 0) + 1;
    if (code === "auth_failed" || code === "auth_required") this.authFailures++;
  }

  toJSON() {
    return {
      accepted: this.accepted,
      connections: this.connections,
      active: this.active,
      bytesUp: this.bytesUp,
      bytesDown: this.bytesDown,
      authFailures: this.authFailures,
      refusals: this.refusals,
      users: Object.fromEntries(this.users),
    };
  }
}

export interface PortStats extends ReturnType<PortCounters["toJSON"]> {
  id: string;
  port: number;
  listen: string;
  state: string;
  listening: boolean;
  listenError: string | null;
  /** Removed from the config; kept until its last connection ends. */
  draining: boolean;
}

export interface EngineStats {
  version: string | number | null;
  startedAt: string;
  uptimeMs: number;
  active: number;
  totals: { accepted: number; connections: number; bytesUp: number; bytesDown: number; authFailures: number };
  ports: PortStats[];
  config: { path: string | null; lastError: string | null; reloads: number; loadedAt: string | null };
  spool: { written: number; dropped: number; rolled: number };
  /** Real (uncached) password verifications, and checks shed because too many were queued. */
  passwordChecks: number;
  passwordShed: number;
  /** The kernel relay: jobs running, handed over since start, fallbacks to JS, why it is off. */
  splice: { enabled: boolean; active: number; started: number; fallbacks: number; error: string | null };
}
