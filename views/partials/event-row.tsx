import type { EventRow } from "../../src/db/queries/events.ts";
import { ts } from "../components/format.ts";
import { eventSummary } from "./timeline.tsx";

export function EventTableRow({ e }: { e: EventRow }): JSX.Element {
  return (
    <tr id={`event-${e.seq}`}>
      <td class="mono num" safe>{String(e.seq)}</td>
      <td class="mono" safe>{ts(e.created_at)}</td>
      <td safe>{e.node_id ?? "–"}</td>
      <td>{e.modem_id ? <a href={`/modems/${e.modem_id}`} safe>{`#${e.modem_id}`}</a> : "–"}</td>
      <td class="mono" safe>{e.kind}</td>
      <td class="summary" safe>{eventSummary(e)}</td>
    </tr>
  );
}
