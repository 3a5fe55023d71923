/** SSE message bodies: rendered views wrapped in <hx-partial> (see partial.ts). */
import type { EventRow } from "../../db/queries/events.ts";
import type { Counters, DashboardRow, ModemDetail } from "../queries/modem-rows.ts";
import type { SseMessage } from "../sse-frames.ts";
import { partial } from "./partial.ts";
import { ModemRow, modemRowParts, type RowParts } from "../../../views/partials/modem-row.tsx";
import { CountersBar } from "../../../views/partials/counters.tsx";
import { ModemPanels } from "../../../views/partials/modem-panels.tsx";
import { TimelineItem } from "../../../views/partials/timeline.tsx";
import { JobLine, jobDomId, jobFromEvent } from "../../../views/partials/jobs.tsx";
import { EventTableRow } from "../../../views/partials/event-row.tsx";
import { SmsPoke } from "../../../views/partials/modem-tools.tsx";

export interface RenderOptions {
  sinr: (raw: number | null) => number | null;
}

/** One dashboard row's HTML (rendered once per batch, shared by every client). */
export function renderRow(m: DashboardRow, o: RenderOptions, now = Date.now()): string {
  return ModemRow({ m, opts: { sinr: o.sinr, now } }) as string;
}

/** One dashboard row as its tag and cells, for cell-level updates (see rowUpdate). */
export function renderRowParts(m: DashboardRow, o: RenderOptions, now = Date.now()): RowParts {
  return modemRowParts(m, { sinr: o.sinr, now });
}

/** A whole row, or the inner HTML of one cell (0-based column) of it. */
export type RowUpdate = { id: number; html: string } | { id: number; cell: number; inner: string };

/** Above this many changed cells the whole row is cheaper (and simpler) than its cells. */
const MAX_CELL_UPDATES = 4;

const openTag = (cell: string) => cell.slice(0, cell.indexOf(">") + 1);
const innerOf = (cell: string) => cell.slice(cell.indexOf(">") + 1, cell.lastIndexOf("</td>"));

/**
 * What a client showing `prev` needs to show `next`: nothing (null), the cells whose content changed (a signal
 * update is one cell: about a third of the row's bytes), or the whole row when its tag, a cell's own attributes
 * (state class, reason tooltip) or many cells changed. Cell updates replace content, never patch it, so a client
 * that already shows some of the new values ends up the same.
 */
export function rowUpdate(id: number, prev: RowParts | undefined, next: RowParts): RowUpdate[] | null {
  const whole = [{ id, html: next.open + next.cells.join("") + "</tr>" }];
  if (!prev || prev.open !== next.open || prev.cells.length !== next.cells.length) return whole;
  const changed: number[] = [];
  for (let i = 0; i < next.cells.length; i++) {
    if (prev.cells[i] === next.cells[i]) continue;
    if (openTag(prev.cells[i]!) !== openTag(next.cells[i]!)) return whole;
    changed.push(i);
  }
  if (!changed.length) return null;
  if (changed.length > MAX_CELL_UPDATES) return whole;
  return changed.map((i) => ({ id, cell: i, inner: innerOf(next.cells[i]!) }));
}

/** Changed rows or cells, and, when they changed (null: unchanged), the scope's counters. */
export function renderDashboardMessage(rows: RowUpdate[], counters: Counters | null, node: string | null, seq: number): SseMessage {
  const parts = rows.map((r) => "html" in r
    ? partial(`#modem-${r.id}`, "outerHTML", r.html)
    : partial(`#modem-${r.id}>:nth-child(${r.cell + 1})`, "innerHTML", r.inner));
  if (counters) parts.push(partial("#counters", "outerHTML", CountersBar({ c: counters, node }) as string));
  return { id: seq, data: parts.join("") };
}

/** Status panels, new timeline entries (newest ends on top) and job progress lines of one modem. */
export function renderModemMessage(m: ModemDetail, events: EventRow[], seq: number, o: RenderOptions): SseMessage {
  const parts = [partial("#modem-status", "outerHTML", ModemPanels({ m, o: { sinr: o.sinr } }) as string)];
  // A new or sent SMS: technicians' pages reload their list (viewers have no placeholder, and no text travels here).
  if (events.some((e) => e.kind.startsWith("sms."))) parts.push(partial("#sms-poke", "outerHTML", SmsPoke({ id: m.id, load: true }) as string));
  for (const e of events) {
    parts.push(partial("#timeline", "afterbegin", TimelineItem({ e }) as string));
    const job = jobFromEvent(e);
    if (job) parts.push(partial(`#${jobDomId(job.jobId)}`, "outerHTML", JobLine({ j: job }) as string));
  }
  return { id: seq, data: parts.join("") };
}

export function renderEventRowMessage(e: EventRow): SseMessage {
  return { id: e.seq, data: partial("#events-body", "afterbegin", EventTableRow({ e }) as string) };
}
