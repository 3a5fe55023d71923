/**
 * Turns the event stream into SSE messages. One subscription to EventStream; per batch of events (one drain of
 * the stream, coalesced on the next tick) the affected modem rows are read once and rendered once, then fanned out
 * by the broker:
 *   dashboard         changed rows + fleet counters when they changed   (clients without node filter)
 *   dashboard@<node>  changed rows of that node + its counters when they changed
 *   modem:<id>        status panels, timeline entries, job progress of one modem
 *   events            every event as a row of the events page (clients filter by kind/node/modem)
 * Each message's `id:` is the highest sequence it covers, so a reconnecting browser's Last-Event-ID replays exactly
 * what it missed (replay.ts). Fleet counters are re-read only when a batch moved some modem's state (every state
 * change comes with an event naming its modem, and the batch's rows show the state): a burst of signal updates
 * costs one query per batch, not two, and its messages carry the rows only. Only channels with listeners are
 * rendered. When a batch cannot be rendered (the DB is briefly away) its clients are closed, and their reconnect
 * replays it: nothing is silently skipped.
 *
 * The live reads run on a connection of their own (dedicatedConnection), warmed when the first live client
 * connects: on the shared pool they could wait behind a busy connection's queue, and a cold pool connection costs
 * ~50 ms (connect, auth, types, prepare) on the first batch. The flush after a drain is queued as a microtask: the
 * stream delivers a drain's rows in one synchronous loop, so the batch is complete by then, without waiting for
 * the next event-loop turn behind other I/O.
 */
import type { Sql } from "../../db/client.ts";
import type { EventRow } from "../../db/queries/events.ts";
import { dedicatedConnection } from "../../events/event-stream.ts";
import type { HttpContext } from "../context.ts";
import type { SseBroker } from "../sse-broker.ts";
import type { MetricsRegistry } from "../metrics-registry.ts";
import { dashboardRows, modemCounters, modemDetail, type Counters, type DashboardRow } from "../queries/modem-rows.ts";
import { childLogger } from "../../lib/logger.ts";
import { renderDashboardMessage, renderEventRowMessage, renderModemMessage, renderRowParts, rowUpdate, type RenderOptions, type RowUpdate } from "./render.ts";
import type { RowParts } from "../../../views/partials/modem-row.tsx";

/** Counters are re-read at least this often while rows flow, a bound on any drift the state tracking could miss. */
const COUNTERS_MAX_AGE_MS = 5_000;

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
  private unwatch?: () => void;
  /** Where live rows are read: a dedicated connection while started (see the header). */
  private sql: Sql;
  private warmed = false;
  /**
   * Last broadcast row per channel and modem: a row that did not change is not sent again, and one that changed
   * in a few cells is sent as those cells.
   */
  private lastRow = new Map<string, Map<number, RowParts>>();
  /** State and node of every modem the live rows have shown, to tell when counters can have changed. */
  private knownState = new Map<number, string>();
  /** Counters per scope ("" = fleet, else a node id) as last read, and when. */
  private counters = new Map<string, { c: Counters; at: number }>();
  /** Counters as last sent on each channel (JSON). */
  private sentCounters = new Map<string, string>();

  constructor(
    private ctx: HttpContext,
    private broker: SseBroker,
    private metrics: MetricsRegistry,
    private render: RenderOptions,
  ) {
    this.sql = ctx.sql;
  }

  start(): void {
    this.unsubscribe ??= this.ctx.events.subscribe((e) => this.onEvent(e));
    // No socket yet: postgres.js connects on the first query (the warm-up below, or the first batch).
    if (this.sql === this.ctx.sql) this.sql = dedicatedConnection(this.ctx.sql, "live");
    this.unwatch ??= this.broker.watchOpen((channels) => {
      if (!this.warmed && channels.some((c) => c.startsWith("dashboard") || c.startsWith("modem:"))) this.warm();
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    this.warmed = false;
    if (this.sql !== this.ctx.sql) void this.sql.end({ timeout: 1 }).catch(() => undefined);
    this.sql = this.ctx.sql;
  }

  /**
   * Before the first batch needs them: connects, prepares the live statements, renders every row once (discarded)
   * and records every modem's state with the fleet counters. Otherwise the first batch pays the connection (~50 ms
   * under load), runs the row views cold, and every modem's first appearance counts as a state move that re-reads
   * the counters: the first 0.5 s of bench/sse.ts was its whole p99 tail.
   */
  private warm(): void {
    this.warmed = true;
    (async () => {
      const rows = await dashboardRows(this.sql, { ordered: false });
      await dashboardRows(this.sql, { ids: rows.slice(0, 1).map((r) => r.id), ordered: false });
      const counters = await modemCounters(this.sql, null);
      const now = Date.now();
      for (const r of rows.slice(0, 500)) renderRowParts(r, this.render, now);
      // Only when nothing was learnt meanwhile: a batch that ran first knows newer states.
      if (this.knownState.size || this.counters.size) return;
      this.statesMoved(new Set(), rows);
      this.counters.set("", { c: counters, at: now });
    })().catch((error) => {
      this.warmed = false;
      log.debug({ err: (error as Error).message }, "live feed warm-up failed");
    });
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
      queueMicrotask(() => void this.flush());
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
        queueMicrotask(() => void this.flush());
      }
    }
  }

  private async publishDashboard(batch: EventRow[]): Promise<void> {
    const channels = this.broker.channelNames("dashboard");
    for (const ch of this.lastRow.keys()) if (!channels.includes(ch)) this.lastRow.delete(ch);
    for (const ch of this.sentCounters.keys()) if (!channels.includes(ch)) this.sentCounters.delete(ch);
    if (!channels.length) {
      // nobody watches: states and counters go stale, so forget them
      this.knownState.clear();
      this.counters.clear();
      return;
    }
    const ids = new Set<number>();
    for (const e of batch) for (const id of modemIdsOf(e)) ids.add(id);
    if (!ids.size) return;
    const maxSeq = batch[batch.length - 1]!.seq;
    const rows = await dashboardRows(this.sql, { ids: [...ids], ordered: false });
    const moved = this.statesMoved(ids, rows);
    if (moved) this.counters.clear();
    const now = Date.now();
    const rendered = new Map(rows.map((r) => [r.id, renderRowParts(r, this.render, now)]));
    for (const ch of channels) {
      const node = ch.startsWith("dashboard@") ? ch.slice("dashboard@".length) : null;
      let seen = this.lastRow.get(ch);
      if (!seen) this.lastRow.set(ch, (seen = new Map()));
      const changed: RowUpdate[] = [];
      for (const r of rows) {
        if (node && r.node_id !== node) continue;
        const parts = rendered.get(r.id)!;
        const update = rowUpdate(r.id, seen.get(r.id), parts);
        if (!update) continue;
        seen.set(r.id, parts);
        changed.push(...update);
      }
      if (!changed.length && !moved) continue;
      const counters = await this.countersFor(node, now);
      const json = JSON.stringify(counters);
      // Sent when they differ from what this channel last got, and with a channel's first rows. A channel that has
      // had nothing yet and gets no rows now shows the counters of its page or replay, which are current.
      const last = this.sentCounters.get(ch);
      const send = last !== json && (last !== undefined || changed.length > 0);
      this.sentCounters.set(ch, json);
      if (!changed.length && !send) continue;
      this.broker.publish(ch, renderDashboardMessage(changed, send ? counters : null, node, maxSeq));
    }
  }

  /** Records the batch's states; true when one is new, changed, or its row is gone. */
  private statesMoved(ids: Set<number>, rows: DashboardRow[]): boolean {
    let moved = false;
    const present = new Set<number>();
    for (const r of rows) {
      present.add(r.id);
      const key = `${r.node_id}\u0000${r.state}`;
      if (this.knownState.get(r.id) !== key) {
        this.knownState.set(r.id, key);
        moved = true;
      }
    }
    for (const id of ids) {
      if (present.has(id)) continue;
      // deleted (or never existed): counters re-read only if it was counted
      if (this.knownState.delete(id)) moved = true;
    }
    return moved;
  }

  /** The scope's counters: cached until a state moves or they are COUNTERS_MAX_AGE_MS old. */
  private async countersFor(node: string | null, now: number): Promise<Counters> {
    const key = node ?? "";
    const cached = this.counters.get(key);
    if (cached && now - cached.at < COUNTERS_MAX_AGE_MS) return cached.c;
    const c = await modemCounters(this.sql, node);
    this.counters.set(key, { c, at: now });
    return c;
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
      const m = await modemDetail(this.sql, { id });
      if (!m) continue;
      this.broker.publish(`modem:${id}`, renderModemMessage(m, events, events[events.length - 1]!.seq, this.render));
    }
  }
}

export type { DashboardRow };
