/**
 * Opens and resolves alerts (the `alerts` table, src/db/queries/alerts.ts) from health states, and delivers them
 * to the optional webhook. PostgreSQL is the truth: every reconcile reads this node's open alerts, so an alert a
 * human resolved while its condition persists comes back as a new one, and a restart neither duplicates nor
 * forgets anything. A rule alert is resolved after its condition was absent on `resolveAfter` evaluations in a row
 * (a flapping condition bumps `occurrences` of the open alert instead of opening and closing a new one each sweep).
 *
 * The webhook follows the rows, not this object's own writes: an alert opened or resolved by another writer (the
 * outage buffer's events_dropped, a human in the panel, a second health instance of the same node) is delivered
 * when this center next reads the node's alerts (on every raise, clear and sweep), exactly once per center. Before,
 * a delivery depended on this center winning the INSERT or the UPDATE: with the app's own health running beside a
 * second one (the lab test), the hub alert's "opened" and "resolved" went out only when the webhook's center won.
 * The alerts open when the center first reads are taken as already announced (by the process before a restart).
 */
import type { Sql } from "../db/client.ts";
import { alertsById, openAlert, openAlertsOfNode, resolveAlertByKeyReturning, type AlertRow, type AlertSpec } from "../db/queries/alerts.ts";
import { childLogger } from "../lib/logger.ts";
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
  /** Open alerts whose opening this center delivered (or found open at its first read), by row id. */
  private announced: Map<number, string> | null = null;

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
    const open = (await this.readOpen()).get(spec.dedupKey);
    if (open && !bump) return { id: Number(open.id), created: false };
    const r = await openAlert(this.opts.sql, { nodeId: this.opts.nodeId, ...spec });
    this.opts.metrics.alertsRaised.inc({ kind: spec.kind, severity: spec.severity });
    if (r.created) log.warn({ kind: spec.kind, key: spec.dedupKey, message: spec.message }, "alert opened");
    // Not created: another writer opened it between our read and our insert (we bumped theirs); still ours to deliver.
    if (r.created || !this.announced?.has(r.id)) this.announceOpened(r.id, spec.dedupKey, { id: r.id, ...spec });
    this.lastOpen.set(spec.dedupKey, { id: r.id, kind: spec.kind, severity: spec.severity, dedup_key: spec.dedupKey } as AlertRow);
    this.updateGauge();
    return r;
  }

  /** Resolves the open alert with this key, if any. */
  clear(dedupKey: string): Promise<boolean> {
    return this.serial(() => this.clearNow(dedupKey));
  }

  private async clearNow(dedupKey: string): Promise<boolean> {
    if (!this.announced) await this.readOpen();
    const row = await resolveAlertByKeyReturning(this.opts.sql, this.opts.nodeId, dedupKey);
    this.absent.delete(dedupKey);
    this.lastOpen.delete(dedupKey);
    this.updateGauge();
    if (!row) {
      // Someone else resolved it first: their write, but the receiver still hears of it (once).
      await this.readOpen();
      return false;
    }
    log.info({ kind: row.kind, key: dedupKey }, "alert resolved");
    this.announceResolved(row);
    return true;
  }

  /**
   * Brings the open rule alerts in line with `wanted`: opens what is missing, bumps an open one whose condition had
   * been absent and came back (a flap), resolves what stayed absent `resolveAfter` times. Keys that `managed`
   * rejects are left alone.
   */
  reconcile(wanted: readonly AlertSpec[], managed: ManagedKey): Promise<void> {
    return this.serial(async () => {
      const open = await this.readOpen();
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

  /**
   * The node's open alerts, and the deliveries they call for: a row this center has not announced was opened by
   * another writer (alert.opened); an announced row no longer open was resolved by one (alert.resolved), or
   * deleted with its modem (nothing to say). The first read only takes note.
   */
  private async readOpen(): Promise<Map<string, AlertRow>> {
    const open = await openAlertsOfNode(this.opts.sql, this.opts.nodeId);
    if (!this.announced) {
      this.announced = new Map([...open.values()].map((r) => [Number(r.id), r.dedup_key]));
      return open;
    }
    const openIds = new Set([...open.values()].map((r) => Number(r.id)));
    const gone = [...this.announced.keys()].filter((id) => !openIds.has(id));
    if (gone.length) {
      for (const row of await alertsById(this.opts.sql, gone)) if (row.resolved_at) this.announceResolved(row);
      for (const id of gone) this.announced.delete(id);
    }
    for (const row of [...open.values()].sort((a, b) => Number(a.id) - Number(b.id))) {
      if (!this.announced.has(Number(row.id))) this.announceOpened(Number(row.id), row.dedup_key, rowPayload(row));
    }
    return open;
  }

  private announceOpened(id: number, dedupKey: string, alert: Record<string, unknown>): void {
    this.announced ??= new Map();
    this.announced.set(id, dedupKey);
    this.deliver("alert.opened", alert);
  }

  private announceResolved(row: AlertRow): void {
    this.announced?.delete(Number(row.id));
    this.deliver("alert.resolved", rowPayload(row));
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
