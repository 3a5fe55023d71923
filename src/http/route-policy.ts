/**
 * Every route declares its access level next to its handler: `{ ...access("technician", "Rotate a modem") }`.
 * The one guard (guard.ts) looks the matched route up here; a route without a declaration is refused (fail closed)
 * and the role × route test fails on it. The same metadata feeds the OpenAPI document.
 */
import type { Access } from "./auth/roles.ts";

export interface RouteMeta {
  "x-role": Access;
  /**
   * false: exempt from the CSRF check (the secure rotation link, whose URL token is the credential).
   * "origin": same-origin check only, no HX-Request needed (the login form, which works without JavaScript).
   */
  "x-csrf"?: boolean | "origin";
  summary?: string;
  tags?: string[];
  requestBody?: unknown;
  parameters?: unknown[];
}

/** Route options for Elysia's `detail` (OpenAPI operation object with x- extensions). */
export function access(role: Access, summary?: string, extra: Partial<RouteMeta> = {}): { detail: never } {
  return { detail: { "x-role": role, summary, ...extra } as never };
}

export interface RouteInfo {
  method: string;
  path: string;
  meta: RouteMeta | null;
}

interface ElysiaRouteLike {
  method: string;
  path: string;
  hooks?: { detail?: unknown };
}

export class RoutePolicy {
  private map = new Map<string, RouteMeta | null>();
  private built = false;

  constructor(private routes: () => ElysiaRouteLike[]) {}

  private build(): void {
    for (const r of this.routes()) {
      const d = r.hooks?.detail as RouteMeta | undefined;
      this.map.set(`${r.method} ${r.path}`, d && typeof d["x-role"] === "string" ? d : null);
    }
    this.built = true;
  }

  /** The metadata of a matched route; HEAD falls back to GET (Bun answers HEAD with the GET handler). */
  lookup(method: string, path: string): RouteMeta | null {
    if (!this.built) this.build();
    return this.map.get(`${method} ${path}`) ?? (method === "HEAD" ? (this.map.get(`GET ${path}`) ?? null) : null);
  }

  list(): RouteInfo[] {
    if (!this.built) this.build();
    return [...this.map.entries()].map(([k, meta]) => {
      const i = k.indexOf(" ");
      return { method: k.slice(0, i), path: k.slice(i + 1), meta };
    });
  }
}
