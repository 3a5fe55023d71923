/**
 * Telemetry out of the data plane: HTTP over a local unix socket, so nothing on the network can
 * read it and the control plane needs no credentials. GET /stats (counters, JSON), GET /healthz
 * (config version in force, uptime, listening ports).
 */
import { chmodSync, rmSync } from "node:fs";
import type { Server } from "bun";
import type { EngineStats } from "./stats.ts";

export interface StatsServer {
  readonly path: string;
  stop(): void;
}

export function startStatsServer(path: string, stats: () => EngineStats): StatsServer {
  // A socket file left by a crashed engine would make listen fail with EADDRINUSE.
  rmSync(path, { force: true });
  const server: Server<undefined> = Bun.serve({
    unix: path,
    fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
      if (url.pathname === "/stats") return Response.json(stats());
      if (url.pathname === "/healthz") {
        const s = stats();
        const listening = s.ports.filter((p) => p.listening).length;
        const failed = s.ports.filter((p) => !p.listening && !p.draining).map((p) => ({ port: p.port, error: p.listenError }));
        return Response.json({
          ok: failed.length === 0 && s.config.lastError === null,
          version: s.version,
          uptimeMs: s.uptimeMs,
          startedAt: s.startedAt,
          ports: s.ports.length,
          listening,
          failed,
          active: s.active,
          configError: s.config.lastError,
        });
      }
      return new Response("not found\n", { status: 404 });
    },
  });
  try {
    chmodSync(path, 0o660);
  } catch {}
  return {
    path,
    stop() {
      server.stop(true);
      rmSync(path, { force: true });
    },
  };
}
