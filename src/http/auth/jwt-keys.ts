/**
 * Session signing keys with a `kid`, kept in jwt_keys so every node of a fleet shares them. New sessions are
 * signed with the newest active key; retired keys keep verifying until the longest session they could have
 * signed has expired, so rotating never logs anybody out early. Signing and verification are @elysiajs/jwt's,
 * one instance per key.
 */
import { randomBytes } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import type { Sql } from "../../db/client.ts";
import { childLogger } from "../../lib/logger.ts";

const log = childLogger("jwt-keys");

/** Retired keys verify for this long: the maximum session lifetime (config allows 1440 min) plus margin. */
export const RETIRED_KEY_GRACE_MINUTES = 1500;

export interface SessionClaims {
  sub: string;
  /** users.session_epoch at issue time. */
  ep: number;
  iat?: number;
  exp?: number;
}

interface Signer {
  sign(claims: Record<string, string | number>): Promise<string>;
  verify(token: string): Promise<Record<string, unknown> | false>;
}

interface KeyEntry {
  kid: string;
  retired: boolean;
  signer: Signer;
}

function makeSigner(kid: string, secret: string, lifetimeMinutes: number): Signer {
  const plugin = jwt({ name: "jwt", secret, kid, alg: "HS256", exp: `${lifetimeMinutes}m` });
  return (plugin as unknown as { decorator: { jwt: Signer } }).decorator.jwt;
}

function newKid(): string {
  return `k${new Date().toISOString().slice(0, 10).replace(/-/g, "")}-${randomBytes(4).toString("hex")}`;
}

/** Creates a new signing key and retires the previous ones (they keep verifying). Returns the new kid. */
export async function rotateJwtKey(sql: Sql, secret?: string): Promise<string> {
  const kid = newKid();
  await sql.begin(async (tx) => {
    await tx`update jwt_keys set retired_at = now() where retired_at is null`;
    await tx`insert into jwt_keys (kid, secret) values (${kid}, ${secret ?? randomBytes(32).toString("base64url")})`;
    await tx`delete from jwt_keys where retired_at < now() - make_interval(mins => ${RETIRED_KEY_GRACE_MINUTES * 2})`;
  });
  log.info({ kid }, "JWT signing key rotated");
  return kid;
}

/** Reads the kid from a compact JWS header without verifying (used only to pick the key). */
export function peekKid(token: string): string | null {
  const dot = token.indexOf(".");
  if (dot <= 0 || dot > 512) return null;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), "base64url").toString("utf8")) as { kid?: unknown; alg?: unknown };
    return header.alg === "HS256" && typeof header.kid === "string" && header.kid.length <= 64 ? header.kid : null;
  } catch {
    return null;
  }
}

export class JwtKeyRing {
  private keys = new Map<string, KeyEntry>();
  private current: KeyEntry | null = null;
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private sql: Sql,
    private opts: { lifetimeMinutes: number; initialSecret?: string; refreshMs?: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Loads keys; creates the first one (from config auth.jwt_secret when set) on an empty table. */
  async load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        let rows = await this.sql`
          select kid, secret, retired_at from jwt_keys
          where retired_at is null or retired_at > now() - make_interval(mins => ${RETIRED_KEY_GRACE_MINUTES})
          order by created_at desc`;
        if (!rows.some((r) => r.retired_at === null)) {
          await rotateJwtKey(this.sql, rows.length === 0 ? this.opts.initialSecret || undefined : undefined);
          rows = await this.sql`
            select kid, secret, retired_at from jwt_keys
            where retired_at is null or retired_at > now() - make_interval(mins => ${RETIRED_KEY_GRACE_MINUTES})
            order by created_at desc`;
        }
        const keys = new Map<string, KeyEntry>();
        let current: KeyEntry | null = null;
        for (const r of rows) {
          const entry = { kid: String(r.kid), retired: r.retired_at !== null, signer: makeSigner(String(r.kid), String(r.secret), this.opts.lifetimeMinutes) };
          keys.set(entry.kid, entry);
          if (!entry.retired && !current) current = entry;
        }
        this.keys = keys;
        this.current = current;
        this.loadedAt = this.now();
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Reloads when stale, so a rotation on another node or by the CLI is picked up within refreshMs. */
  private async fresh(): Promise<void> {
    if (!this.current || this.now() - this.loadedAt > (this.opts.refreshMs ?? 30_000)) {
      try {
        await this.load();
      } catch (error) {
        if (!this.current) throw error;
        log.warn({ err: (error as Error).message }, "JWT key reload failed; keeping the cached keys");
      }
    }
  }

  get currentKid(): string | null {
    return this.current?.kid ?? null;
  }

  async sign(claims: SessionClaims): Promise<string> {
    await this.fresh();
    return this.current!.signer.sign({ sub: claims.sub, ep: claims.ep });
  }

  /** Verified claims, or null (bad signature, expired, unknown or long-retired kid). */
  async verify(token: string): Promise<SessionClaims | null> {
    if (token.length > 4096) return null;
    const kid = peekKid(token);
    if (!kid) return null;
    await this.fresh().catch(() => undefined);
    let key = this.keys.get(kid);
    if (!key && this.now() - this.loadedAt > 2000) {
      // A key made by another node since our last load.
      await this.load().catch(() => undefined);
      key = this.keys.get(kid);
    }
    if (!key) return null;
    const payload = await key.signer.verify(token);
    if (!payload || typeof payload.sub !== "string" || typeof payload.ep !== "number") return null;
    return { sub: payload.sub, ep: payload.ep, iat: Number(payload.iat), exp: Number(payload.exp) };
  }
}
