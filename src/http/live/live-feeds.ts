/**
 * Turns the event stream into SSE messages. One subscription to EventStream; per batch of events (one drain of
 * the stream, coalesced on the next tick) the affected modem rows are read once and rendered once, then fanned out
 * by the broker:
 *   dashboard         changed rows + fleet counters           (clients without node filter)
 *   dashboard@<node>  changed rows of that node + its counters
 *   modem:<id>        status panels, timeline entries, job progress of one modem
 *   events            every event as a row of the events page (clients filter by kind/node/modem)
 * Each message's `id:` is the highest sequence it covers, so a reconnecting browser's Last-Event-ID replays exactly
 * what it missed (replay.ts). Only channels with listeners are rendered. When a batch cannot be rendered (the DB
 * is briefly away) its clients are closed, and their reconnect replays it: nothing is silently skipped.
 */
import type { EventRow } from "../../db/queries/events.ts";
import type { HttpContext } from "../context.ts";
import type { SseBroker } from "../sse-broker.ts";
import type { MetricsRegistry } from "../metrics-registry.ts";
import { dashboardRows, modemCounters, modemDetail, type DashboardRow } from "../queries/modem-rows.ts";
import { childLogger } from "../../lib/logger.ts";
import { renderDashboardMessage, renderEventRowMessage, renderModemMessage, renderRow, type RenderOptions } from "./render.ts";

const log = childLogger("sse");

/** Modem ids an event concerns: its modem_id plus payload.modemIds (batched health sweeps). */
export function modemIdsOf(e: Pick<EventRow, "modem_id" | "payload">): number[] {
  const ids = new Set<number>();
  if (e.modem_id !== null && e.modem_id !== undefined) ids.add(Number(e.modem_id));
  const list = (e.payload as { modemIds?: unknown })?.modemIds;
  if (Array.isArray(list)) for (const x of list.slice(0, 10_000)) if (Number.isSafeInteger(x) && (x as number) > 0) ids.add(x as number);
  return [...ids];
}

export class LiveFeeds {
  private pending: EventRow[] = [];
  private scheduled = false;
  private flushing = false;
  private unsubscribe?: () => void;
  /** Last broadcast row HTML per channel and modem: a row whose HTML did not change is not sent again. */
  private lastRow = new Map<string, Map<number, string>>();

  constructor(
    private ctx: HttpContext,
    private broker: SseBroker,
    private metrics: MetricsRegistry,
    private render: RenderOptions,
  ) {}

  start(): void {
    this.unsubscribe ??= this.ctx.events.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private observeLag(e: EventRow): void {
    const lag = Math.max(0, Date.now() - new Date(e.created_at).getTime()) / 1000;
    this.metrics.histogram("lteproxy_sse_event_lag_seconds", "Time from an event's insert to its SSE send", [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]).observe({}, lag);
  }

  onEvent(e: EventRow): void {
    if (this.broker.hasListeners("events")) {
      this.broker.publish("events", renderEventRowMessage(e), { nodeId: e.node_id, kind: e.kind, modemIds: modemIdsOf(e) });
    }
    this.pending.push(e);
    // While a flush runs, its loop picks new events up; otherwise schedule one for the next tick.
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Renders and publishes everything pending; batches that arrive meanwhile run right after, in order. */
  async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        await this.publishDashboard(batch);
        await this.publishModems(batch);
        for (const e of batch) this.observeLag(e);
      }
    } catch (error) {
      // The batch could not be rendered (DB blip): make its clients reconnect, their Last-Event-ID replays it.
      const n = this.broker.resync("dashboard") + this.broker.resync("modem:");
      log.warn({ err: (error as Error).message, clients: n }, "live update failed; clients reconnect and replay");
    } finally {
      this.flushing = false;
      if (this.pending.length && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    }
  }

  private async publishDashboard(batch: EventRow[]): Promise<void> {
    const channels = this.broker.channelNames("dashboard");
    for (const ch of this.lastRow.keys()) if (!channels.includes(ch)) this.lastRow.delete(ch);
    if (!channels.length) return;
    const ids = new Set<number>();
    for (const e of batch) for (const id of modemIdsOf(e)) ids.add(id);
    if (!ids.size) return;
    const maxSeq = batch[batch.length - 1]!.seq;
    const rows = await dashboardRows(this.ctx.sql, { ids: [...ids] });
    const now = Date.now();
    const rendered = new Map(rows.map((r) => [r.id, renderRow(r, this.render, now)]));
    for (const ch of channels) {
      const node = ch.startsWith("dashboard@") ? ch.slice("dashboard@".length) : null;
      let seen = this.lastRow.get(ch);
      if (!seen) this.lastRow.set(ch, (seen = new Map()));
      const changed: Array<{ id: number; html: string }> = [];
      for (const r of rows) {
        if (node && r.node_id !== node) continue;
        const html = rendered.get(r.id)!;
        if (seen.get(r.id) === html) continue;
        seen.set(r.id, html);
        changed.push({ id: r.id, html });
      }
      if (!changed.length) continue;
      const counters = await modemCounters(this.ctx.sql, node);
      this.broker.publish(ch, renderDashboardMessage(changed, counters, node, maxSeq));
    }
  }

  private async publishModems(batch: EventRow[]): Promise<void> {
    const byModem = new Map<number, EventRow[]>();
    for (const e of batch) {
      for (const id of modemIdsOf(e)) {
        if (!this.broker.hasListeners(`modem:${id}`)) continue;
        let list = byModem.get(id);
        if (!list) byModem.set(id, (list = []));
        list.push(e);
      }
    }
    for (const [id, events] of byModem) {
      const m = await modemDetail(this.ctx.sql, { id });
      if (!m) continue;
      this.broker.publish(`modem:${id}`, renderModemMessage(m, events, events[events.length - 1]!.seq, this.render));
    }
  }
}

export type { DashboardRow };
