import type { DashboardRow } from "../../src/http/queries/modem-rows.ts";
import { stateGroup } from "../../src/http/queries/modem-rows.ts";
import { ago, bandShort, bytes, dash, imeiTail, signalBars } from "../components/format.ts";

export interface RowOptions {
  /** SINR in dB from the raw value (the scale is configurable, ec25.md §4.3). */
  sinr: (raw: number | null) => number | null;
  now?: number;
}

/** A row as its opening tag and its cells (each a whole `<td>…</td>`), so a live update can send only the cells that changed. */
export interface RowParts {
  open: string;
  cells: string[];
}

/**
 * One dashboard row. Its id is stable (`modem-<id>`) so a live update replaces exactly this row, or single cells of
 * it (live-feeds.ts). The node column is always rendered (CSS hides it on a single-node table) so live rows always
 * match the page's columns. Kept small on purpose (column styling lives in app.css, keyed by position): every
 * change of every modem is sent to every open dashboard.
 */
export function modemRowParts(m: DashboardRow, opts: RowOptions): RowParts {
  const group = stateGroup(m.state);
  const sinr = opts.sinr(m.sinr_raw);
  const signal: string = m.rsrp === null ? "–" : `${m.rsrp}${sinr === null ? "" : `/${Math.round(sinr)}`}`;
  const port: string = m.proxy_port === null ? "–" : `${m.proxy_port}${m.proxy_enabled ? "" : " off"}`;
  const cells = [
    <td safe>{m.node_id}</td>,
    <td><a href={`/modems/${m.id}`} safe>{m.slot ?? `#${m.id}`}</a></td>,
    <td safe>{imeiTail(m.imei)}</td>,
    <td class={`state state-${group}`} title={m.state_reason ?? undefined} safe>{m.state}</td>,
    <td safe>{dash(m.operator)}</td>,
    <td safe>{[m.rat, bandShort(m.band)].filter(Boolean).join(" ") || "–"}</td>,
    <td><i class={`bars b${signalBars(m.rsrp)}`}></i><span safe>{signal}</span></td>,
    <td safe>{dash(m.wan_ip)}</td>,
    <td safe>{dash(m.public_ip)}</td>,
    <td safe>{port}</td>,
    <td safe>{bytes(m.traffic_today)}</td>,
    <td safe>{ago(m.last_rotation_at, opts.now)}</td>,
  ] as string[];
  // id is a number and group one of four words: nothing here needs escaping
  return { open: `<tr id="modem-${Number(m.id)}" class="row-${group}">`, cells };
}

export function ModemRow({ m, opts }: { m: DashboardRow; opts: RowOptions }): JSX.Element {
  const p = modemRowParts(m, opts);
  return p.open + p.cells.join("") + "</tr>";
}

export function ModemTableHead(): JSX.Element {
  return (
    <tr>
      <th>Node</th>
      <th>Slot</th><th>IMEI</th><th>State</th><th>Operator</th><th>RAT/band</th><th>Signal (RSRP/SINR)</th>
      <th>WAN IP</th><th>Public IP</th><th>Port</th><th>Today</th><th>Last rotation</th>
    </tr>
  );
}

/** The table body, replaced as a whole only by the filter form (live updates replace single rows). */
export function ModemTableBody({ rows, opts }: { rows: DashboardRow[]; opts: RowOptions }): JSX.Element {
  return (
    <tbody id="modems-body">
      {rows.length === 0 ? (
        <tr><td colspan="12" class="muted">No modems match.</td></tr>
      ) : (
        rows.map((m) => <ModemRow m={m} opts={opts} />)
      )}
    </tbody>
  );
}
