import type { EventRow } from "../../src/db/queries/events.ts";
import { ts } from "../components/format.ts";

/** A short human summary of an event payload ("online → degraded: no data path"), else compact JSON. */
export function eventSummary(e: Pick<EventRow, "kind" | "payload">): string {
  const p = e.payload ?? {};
  const s = (k: string) => (typeof p[k] === "string" || typeof p[k] === "number" ? String(p[k]) : null);
  if (s("from") && s("to")) return `${s("from")} → ${s("to")}${s("reason") ? `: ${s("reason")}` : ""}`;
  if (s("state")) return `${s("state")}${s("reason") ? `: ${s("reason")}` : ""}`;
  if (s("message")) return s("message")!;
  const json = JSON.stringify(p);
  return json.length > 200 ? `${json.slice(0, 199)}…` : json;
}

export function TimelineItem({ e }: { e: EventRow }): JSX.Element {
  return (
    <li id={`ev-${e.seq}`} class={`ev ev-${e.kind.split(".")[0]}`}>
      <time class="mono muted" safe>{ts(e.created_at)}</time> <b safe>{e.kind}</b> <span safe>{eventSummary(e)}</span>
    </li>
  );
}

export function Timeline({ events }: { events: EventRow[] }): JSX.Element {
  return (
    <ul id="timeline" class="timeline">
      {events.length === 0 ? <li class="muted empty">No events yet.</li> : events.map((e) => <TimelineItem e={e} />)}
    </ul>
  );
}
