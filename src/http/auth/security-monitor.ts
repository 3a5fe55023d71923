/**
 * Security bookkeeping in one place: login attempt limits per IP, lockout of unknown usernames (so a locked real
 * account and an unknown one look alike), offence counting per IP and the IP block list (ip_blocks, cached here
 * and refreshed every few seconds so a block set by another node applies too). Every failure, lockout, forbidden
 * attempt and block becomes a security_events row.
 */
import type { Sql } from "../../db/client.ts";
import { activeIpBlocks, blockIp, liftIpBlock, recordSecurityEvent, type SecurityKind } from "../../db/queries/security.ts";
import { DEFAULT_SETTINGS, getSettings, type Settings } from "../../db/queries/settings.ts";
import { childLogger } from "../../lib/logger.ts";
import { SlidingCounter } from "./throttle.ts";

const log = childLogger("security");

/** Kinds that count toward an IP block. */
const OFFENCES = new Set<SecurityKind>(["login_failed", "login_locked", "forbidden", "csrf_rejected", "api_key_invalid", "rotation_link_invalid", "unauthenticated"]);

export interface SecurityMonitorOptions {
  nodeId: string;
  /** Login attempts per IP per minute before 429. */
  loginPerMinute?: number;
  /** Consecutive failures that lock an account (config auth.lockout_attempts). */
  lockAfter: number;
  now?: () => number;
  blocklistRefreshMs?: number;
}

export class SecurityMonitor {
  private loginAttempts = new SlidingCounter(60_000);
  private unknownUserFailures = new SlidingCounter(15 * 60_000);
  private offences = new SlidingCounter(15 * 60_000);
  private blocked = new Map<string, number>();
  private blocksLoadedAt = 0;
  private refreshing = false;
  private settings: { at: number; value: Settings | null } = { at: 0, value: null };

  constructor(private sql: Sql, readonly opts: SecurityMonitorOptions) {}

  now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Current settings, cached for 10 s (the guard reads them on every offence). */
  async currentSettings(): Promise<Settings> {
    if (!this.settings.value || this.now() - this.settings.at > 10_000) {
      try {
        this.settings = { at: this.now(), value: await getSettings(this.sql, this.opts.nodeId) };
      } catch {
        if (!this.settings.value) return DEFAULT_SETTINGS;
      }
    }
    return this.settings.value!;
  }

  /** True when the address is blocked. Uses the cache; refreshes it in the background when stale. */
  isBlocked(ip: string | null): boolean {
    if (!ip) return false;
    if (this.now() - this.blocksLoadedAt > (this.opts.blocklistRefreshMs ?? 5000)) void this.refreshBlocks();
    const until = this.blocked.get(ip);
    return until !== undefined && until > this.now();
  }

  async refreshBlocks(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const rows = await activeIpBlocks(this.sql);
      this.blocked = new Map(rows.map((r) => [r.ip, new Date(r.blocked_until).getTime()]));
      this.blocksLoadedAt = this.now();
    } catch (error) {
      log.debug({ err: (error as Error).message }, "ip block refresh failed");
    } finally {
      this.refreshing = false;
    }
  }

  /** Counts a login attempt from this IP; false when the per-minute limit is exceeded. */
  allowLoginAttempt(ip: string | null): boolean {
    return this.loginAttempts.hit(ip ?? "unknown", this.now()) <= (this.opts.loginPerMinute ?? 20);
  }

  /** An unknown username "locks" like a real one would, so lockouts do not reveal which usernames exist. */
  unknownUserLocked(username: string): boolean {
    return this.unknownUserFailures.count(username.toLowerCase(), this.now()) >= this.opts.lockAfter;
  }

  unknownUserFailed(username: string): void {
    this.unknownUserFailures.hit(username.toLowerCase(), this.now());
  }

  /** Records a security event; offences from one IP past the threshold block that IP for a while. */
  async record(kind: SecurityKind, e: { ip: string | null; username?: string | null; details?: Record<string, unknown> }): Promise<void> {
    try {
      await recordSecurityEvent(this.sql, { kind, ip: e.ip, username: e.username ?? null, details: e.details });
    } catch (error) {
      log.warn({ err: (error as Error).message, kind }, "could not record security event");
    }
    if (!e.ip || !OFFENCES.has(kind)) return;
    const n = this.offences.hit(e.ip, this.now());
    const s = await this.currentSettings();
    if (n >= s["security.ip_block_threshold"] && !this.isBlocked(e.ip)) {
      await this.block(e.ip, `${n} offences in 15 min (last: ${kind})`, s["security.ip_block_minutes"]);
    }
  }

  async block(ip: string, reason: string, minutes: number, by = "system"): Promise<void> {
    try {
      await blockIp(this.sql, ip, reason, minutes);
      await recordSecurityEvent(this.sql, { kind: "ip_blocked", ip, details: { reason, minutes, by } });
    } catch (error) {
      log.warn({ err: (error as Error).message, ip }, "could not persist IP block; blocking in memory");
    }
    this.blocked.set(ip, this.now() + minutes * 60_000);
    log.warn({ ip, reason, minutes }, "IP blocked");
  }

  async lift(ip: string, by: string): Promise<boolean> {
    const lifted = await liftIpBlock(this.sql, ip, by);
    this.blocked.delete(ip);
    this.offences.reset(ip);
    if (lifted) await recordSecurityEvent(this.sql, { kind: "ip_unblocked", ip, details: { by } }).catch(() => undefined);
    return lifted;
  }
}
