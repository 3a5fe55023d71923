/** SSE message bodies: rendered views wrapped in <hx-partial> (see partial.ts). */
import type { EventRow } from "../../db/queries/events.ts";
import type { Counters, DashboardRow, ModemDetail } from "../queries/modem-rows.ts";
import type { SseMessage } from "../sse-frames.ts";
import { partial } from "./partial.ts";
import { ModemRow } from "../../../views/partials/modem-row.tsx";
import { CountersBar } from "../../../views/partials/counters.tsx";
import { ModemPanels } from "../../../views/partials/modem-panels.tsx";
import { TimelineItem } from "../../../views/partials/timeline.tsx";
import { JobLine, jobDomId, jobFromEvent } from "../../../views/partials/jobs.tsx";
import { EventTableRow } from "../../../views/partials/event-row.tsx";

export interface RenderOptions {
  sinr: (raw: number | null) => number | null;
}

/** One dashboard row's HTML (rendered once per batch, shared by every client). */
export function renderRow(m: DashboardRow, o: RenderOptions, now = Date.now()): string {
  return ModemRow({ m, opts: { sinr: o.sinr, now } }) as string;
}

/** Changed rows (each replaces its own <tr>) and the counters of the client's scope. */
export function renderDashboardMessage(rows: Array<{ id: number; html: string }>, counters: Counters, node: string | null, seq: number): SseMessage {
  const parts = rows.map((r) => partial(`#modem-${r.id}`, "outerHTML", r.html));
  parts.push(partial("#counters", "outerHTML", CountersBar({ c: counters, node }) as string));
  return { id: seq, data: parts.join("") };
}

/** Status panels, new timeline entries (newest ends on top) and job progress lines of one modem. */
export function renderModemMessage(m: ModemDetail, events: EventRow[], seq: number, o: RenderOptions): SseMessage {
  const parts = [partial("#modem-status", "outerHTML", ModemPanels({ m, o: { sinr: o.sinr } }) as string)];
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
