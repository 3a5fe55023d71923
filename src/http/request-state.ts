/** Per-request facts the guard establishes (client IP, principal) for handlers, keyed by the Request object. */
import type { Actor, Role } from "./context.ts";
import { unauthorized } from "./errors.ts";

export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: "session" | "api_key";
  keyId?: number;
  mustChangePassword: boolean;
}

export interface RequestState {
  ip: string | null;
  principal: Principal | null;
  startedAt: number;
}

const states = new WeakMap<Request, RequestState>();

export function stateOf(request: Request): RequestState {
  let s = states.get(request);
  if (!s) {
    s = { ip: null, principal: null, startedAt: performance.now() };
    states.set(request, s);
  }
  return s;
}

/** The authenticated principal; the guard guarantees one on non-public routes. */
export function principalOf(request: Request): Principal {
  const p = stateOf(request).principal;
  if (!p) throw unauthorized();
  return p;
}

export function actorOf(request: Request): Actor {
  const s = stateOf(request);
  const p = s.principal;
  if (!p) throw unauthorized();
  return { userId: p.userId, username: p.username, role: p.role, via: p.via, ip: s.ip };
}
