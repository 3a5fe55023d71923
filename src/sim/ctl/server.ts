/**
 * The lab's control API: HTTP on a unix socket (<runDir>/ctl.sock) and optionally on loopback.
 *   GET  /v1/lab              lab info (dirs, sockets, net)
 *   GET  /v1/modems           every modem's summary (what `sim ctl list --json` prints)
 *   POST /v1/ctl              {"target": "all"|slot|imei|index, "action": "hang", "args": []}
 * Errors: {"error": {"code": "SIM_…", "message": "…"}} with 400 (bad input) or 404 (unknown target).
 */
import fs from "node:fs";
import type { Server } from "bun";
import { AppError } from "../../lib/errors.ts";
import type { ActionResult } from "./actions.ts";

export interface CtlBackend {
  info(): unknown;
  list(): unknown[];
  ctl(target: string, action: string, ...args: string[]): Promise<ActionResult>;
}

const STATUS: Record<string, number> = { SIM_UNKNOWN_TARGET: 404, SIM_UNKNOWN_ACTION: 400, SIM_BAD_ARGS: 400, SIM_BAD_REQUEST: 400 };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export async function handleCtl(backend: CtlBackend, req: Request): Promise<Response> {
  const url = new URL(req.url);
  try {
    if (req.method === "GET" && url.pathname === "/v1/lab") return json(backend.info());
    if (req.method === "GET" && url.pathname === "/v1/modems") return json({ modems: backend.list() });
    if (req.method === "POST" && url.pathname === "/v1/ctl") {
      let body: { target?: unknown; action?: unknown; args?: unknown };
      try {
        body = (await req.json()) as typeof body;
      } catch {
        throw new AppError("SIM_BAD_REQUEST", "body must be JSON: {target, action, args}");
      }
      const args = body.args ?? [];
      if (typeof body.target !== "string" || typeof body.action !== "string" || !Array.isArray(args) || !args.every((a) => typeof a === "string")) {
        throw new AppError("SIM_BAD_REQUEST", "expected {target: string, action: string, args: string[]}");
      }
      return json(await backend.ctl(body.target, body.action, ...(args as string[])));
    }
    return json({ error: { code: "SIM_NOT_FOUND", message: `no route ${req.method} ${url.pathname}` } }, 404);
  } catch (error) {
    if (error instanceof AppError) return json({ error: { code: error.code, message: error.message } }, STATUS[error.code] ?? 500);
    return json({ error: { code: "SIM_INTERNAL", message: String(error) } }, 500);
  }
}

export class CtlServer {
  private readonly servers: Server<undefined>[] = [];
  port?: number;

  constructor(private readonly backend: CtlBackend, readonly socketPath?: string) {}

  start(opts: { port?: number } = {}): void {
    const fetch = (req: Request) => handleCtl(this.backend, req);
    if (this.socketPath) {
      fs.rmSync(this.socketPath, { force: true });
      this.servers.push(Bun.serve({ unix: this.socketPath, fetch }));
    }
    if (opts.port !== undefined) {
      const s = Bun.serve({ hostname: "127.0.0.1", port: opts.port, fetch });
      this.port = s.port;
      this.servers.push(s);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.servers.splice(0)) await s.stop(true);
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }
}
