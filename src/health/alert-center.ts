/**
 * Opens and resolves alerts (the `alerts` table, src/db/queries/alerts.ts) from health states, and delivers them
 * to the optional webhook. PostgreSQL is the truth: every reconcile reads this node's open alerts, so an alert a
 * human resolved while its condition persists comes back as a new one, and a restart neither duplicates nor
 * forgets anything. A rule alert is resolved after its condition was absent on `resolveAfter` evaluations in a row
 * (a flapping condition bumps `occurrences` of the open alert instead of opening and closing a new one each sweep).
 */
import type { Sql } from "../db/client.ts";
import { openAlert, openAlertsOfNode, resolveAlertByKeyReturning, type AlertRow } from "../db/queries/alerts.ts";
import { childLogger } from "../lib/logger.ts";
import type { AlertSpec } from "./alert-rules.ts";
import type { HealthMetrics } from "./metrics.ts";
import { WebhookQueue, type WebhookOptions } from "./webhook.ts";

const log = childLogger("alerts");

export interface AlertCenterOptions {
  sql: Sql;
  nodeId: string;
  metrics: HealthMetrics;
  webhook?: WebhookOptions;
  /** Evaluations without the condition before a rule alert is resolved (default 2). */
  resolveAfter?: number;
  fetchImpl?: typeof fetch;
}

/** Which dedup keys the rules own (the others are raised and cleared explicitly: hub.down). */
export type ManagedKey = (dedupKey: string) => boolean;

export class AlertCenter {
  private readonly absent = new Map<string, number>();
  private readonly webhook: WebhookQueue | null;
  private lastOpen = new Map<string, AlertRow>();
  private gaugeKeys = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AlertCenterOptions) {
    this.webhook = opts.webhook?.url
      ? new WebhookQueue(opts.webhook, (r) => opts.metrics.webhook.inc({ result: r.ok ? "ok" : "failed" }), opts.fetchImpl)
      : null;
  }

  /** Open alerts as of the last read. */
  open(): AlertRow[] {
    return [...this.lastOpen.values()];
  }

  /**
   * Opens an alert now and delivers it when new. An alert already open is left as is, unless `bump` (the condition
   * came back while it was open), which counts one more occurrence.
   */
  raise(spec: AlertSpec, opts: { bump?: boolean } = {}): Promise<{ id: number; created: boolean }> {
    return this.serial(() => this.raiseNow(spec, opts.bump ?? false));
  }

  private async raiseNow(spec: AlertSpec, bump: boolean): Promise<{ id: number; created: boolean }> {
    this.absent.delete(spec.dedupKey);
    if (!bump) {
      const open = (await openAlertsOfNode(this.opts.sql, this.opts.nodeId)).get(spec.dedupKey);
      if (open) return { id: Number(open.id), created: false };
    }
    const r = await openAlert(this.opts.sql, { nodeId: this.opts.nodeId, ...spec });
    this.opts.metrics.alertsRaised.inc({ kind: spec.kind, severity: spec.severity });
    if (r.created) {
      log.warn({ kind: spec.kind, key: spec.dedupKey, message: spec.message }, "alert opened");
      this.deliver("alert.opened", { id: r.id, ...spec });
    }
    this.lastOpen.set(spec.dedupKey, { id: r.id, kind: spec.kind, severity: spec.severity, dedup_key: spec.dedupKey } as AlertRow);
    this.updateGauge();
    return r;
  }

  /** Resolves the open alert with this key, if any. */
  clear(dedupKey: string): Promise<boolean> {
    return this.serial(() => this.clearNow(dedupKey));
  }

  private async clearNow(dedupKey: string): Promise<boolean> {
    const row = await resolveAlertByKeyReturning(this.opts.sql, this.opts.nodeId, dedupKey);
    this.absent.delete(dedupKey);
    this.lastOpen.delete(dedupKey);
    this.updateGauge();
    if (!row) return false;
    log.info({ kind: row.kind, key: dedupKey }, "alert resolved");
    this.deliver("alert.resolved", rowPayload(row));
    return true;
  }

  /**
   * Brings the open rule alerts in line with `wanted`: opens what is missing, bumps an open one whose condition had
   * been absent and came back (a flap), resolves what stayed absent `resolveAfter` times. Keys that `managed`
   * rejects are left alone.
   */
  reconcile(wanted: readonly AlertSpec[], managed: ManagedKey): Promise<void> {
    return this.serial(async () => {
      const open = await openAlertsOfNode(this.opts.sql, this.opts.nodeId);
      const wantedKeys = new Set<string>();
      for (const spec of wanted) {
        wantedKeys.add(spec.dedupKey);
        const flapped = (this.absent.get(spec.dedupKey) ?? 0) > 0;
        if (open.has(spec.dedupKey) && !flapped) continue;
        const r = await this.raiseNow(spec, flapped);
        open.set(spec.dedupKey, { id: r.id, kind: spec.kind, severity: spec.severity, dedup_key: spec.dedupKey } as AlertRow);
      }
      for (const [key] of [...open]) {
        if (wantedKeys.has(key) || !managed(key)) continue;
        const n = (this.absent.get(key) ?? 0) + 1;
        this.absent.set(key, n);
        if (n < (this.opts.resolveAfter ?? 2)) continue;
        if (await this.clearNow(key)) open.delete(key);
      }
      this.lastOpen = open;
      this.updateGauge();
    });
  }

  /** Waits for pending webhook deliveries (tests, shutdown). */
  async idle(): Promise<void> {
    await this.webhook?.idle();
  }

  /** One operation at a time: two evaluations racing would open the same alert twice (occurrences 2). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private deliver(event: string, alert: Record<string, unknown>): void {
    this.webhook?.push({ event, node: this.opts.nodeId, at: new Date().toISOString(), alert });
  }

  private updateGauge(): void {
    const counts = new Map<string, { kind: string; severity: string; n: number }>();
    for (const a of this.lastOpen.values()) {
      const k = `${a.kind}|${a.severity}`;
      const c = counts.get(k) ?? { kind: a.kind, severity: a.severity, n: 0 };
      c.n++;
      counts.set(k, c);
    }
    for (const c of counts.values()) this.opts.metrics.alertsOpen.set({ kind: c.kind, severity: c.severity }, c.n);
    for (const k of this.gaugeKeys) {
      if (!counts.has(k)) {
        const [kind, severity] = k.split("|") as [string, string];
        this.opts.metrics.alertsOpen.set({ kind, severity }, 0);
      }
    }
    this.gaugeKeys = new Set(counts.keys());
  }

}

function rowPayload(r: AlertRow): Record<string, unknown> {
  return {
    id: Number(r.id), kind: r.kind, severity: r.severity, scope: r.scope, modemId: r.modem_id === null ? null : Number(r.modem_id),
    hub: r.hub, dedupKey: r.dedup_key, message: r.message, details: r.details, occurrences: r.occurrences,
    openedAt: r.opened_at, resolvedAt: r.resolved_at,
  };
}
