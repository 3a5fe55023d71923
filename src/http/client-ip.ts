/** The client's address as PostgreSQL inet text, from the socket (never from forgeable headers by default). */
import type { HttpContext } from "./context.ts";

type ServerLike = { requestIP(req: Request): { address: string } | null } | null | undefined;

export function clientIpOf(ctx: HttpContext, request: Request, server: ServerLike): string | null {
  const raw = ctx.clientIp ? ctx.clientIp(request) : (server?.requestIP(request)?.address ?? null);
  if (!raw) return null;
  // IPv4-mapped IPv6 ("::ffff:127.0.0.1") is the same client as 127.0.0.1 for blocks and throttles.
  const ip = raw.startsWith("::ffff:") && raw.includes(".") ? raw.slice(7) : raw;
  return /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : null;
}
