import { Layout, type PageUser } from "../layout.tsx";
import type { Counters, DashboardRow } from "../../src/http/queries/modem-rows.ts";
import { CountersBar } from "../partials/counters.tsx";
import { ModemTableBody, ModemTableHead, type RowOptions } from "../partials/modem-row.tsx";

export interface DashboardFilter {
  q?: string;
  state?: string;
  node?: string;
}

export interface DashboardProps {
  rows: DashboardRow[];
  counters: Counters;
  filter: DashboardFilter;
  nodes: string[];
  /** The event sequence read before the rows: the live stream replays everything after it. */
  afterSeq: number;
  opts: RowOptions;
  user: PageUser;
  nodeId: string;
  banner?: string;
}

const STATE_CHOICES = ["", "online", "degraded", "offline", "failed"];

export function sseDashboardUrl(afterSeq: number, node?: string): string {
  return `/sse/dashboard?after=${afterSeq}${node ? `&node=${encodeURIComponent(node)}` : ""}`;
}

/**
 * Every modem on one screen. The filter form swaps the table body; the hidden #live element holds the SSE
 * connection whose messages are <hx-partial> fragments replacing single rows and the counters.
 */
export function DashboardPage(p: DashboardProps): JSX.Element {
  return (
    <Layout title="Modems" nodeId={p.nodeId} banner={p.banner} user={p.user} active="dashboard" keepalive>
      <div class="page-head">
        <h1>Modems</h1>
        <CountersBar c={p.counters} node={p.filter.node} />
      </div>
      <form class="filters" hx-get="/fragments/modems" hx-target="#modems-body" hx-swap="outerHTML" hx-trigger="input delay:250ms, change, submit" action="/" method="get">
        <input type="search" name="q" placeholder="Search slot, IMEI, operator, IP, port" value={p.filter.q ?? ""} aria-label="Search" />
        <select name="state" aria-label="State">
          {STATE_CHOICES.map((s) => (
            <option value={s} selected={(p.filter.state ?? "") === s} safe>{s || "any state"}</option>
          ))}
        </select>
        {p.nodes.length > 1 ? (
          <select name="node" aria-label="Node">
            <option value="" selected={!p.filter.node}>all nodes</option>
            {p.nodes.map((n) => <option value={n} selected={p.filter.node === n} safe>{n}</option>)}
          </select>
        ) : ""}
        <noscript><button type="submit">Filter</button></noscript>
      </form>
      <div class="table-wrap">
        <table class={`grid dense${p.nodes.length > 1 ? "" : " single-node"}`} id="modems">
          <thead><ModemTableHead /></thead>
          <ModemTableBody rows={p.rows} opts={p.opts} />
        </table>
      </div>
      <div id="live" class="live" hx-sse:connect={sseDashboardUrl(p.afterSeq, p.filter.node)} hx-swap="none">
        <span class="dot"></span> live
      </div>
    </Layout>
  );
}
