import { Layout, type PageUser } from "../layout.tsx";
import type { ModemDetail } from "../../src/http/queries/modem-rows.ts";
import type { ProxyRow, SmsRow } from "../../src/http/queries/misc.ts";
import type { SamplePoint } from "../../src/http/queries/history.ts";
import type { EventRow } from "../../src/db/queries/events.ts";
import { ModemPanels, ProxyPanel, type PanelOptions, type ProxyPanelOptions } from "../partials/modem-panels.tsx";
import { Timeline } from "../partials/timeline.tsx";
import { JobLine, type JobView } from "../partials/jobs.tsx";
import { Plot } from "../components/plot.tsx";
import { ActionButtons, AtConsole, RotationLink, SmsForm, SmsList, SmsPoke, UssdForm } from "../partials/modem-tools.tsx";

export interface ModemPageProps {
  m: ModemDetail;
  proxy: ProxyRow | null;
  history: SamplePoint[];
  events: EventRow[];
  jobs: JobView[];
  /** null when the user may not read SMS (viewers). */
  sms: SmsRow[] | null;
  canOperate: boolean;
  afterSeq: number;
  panel: PanelOptions;
  proxyPanel: ProxyPanelOptions;
  user: PageUser;
  nodeId: string;
  banner?: string;
  now: number;
}

export function modemSseUrl(id: number, afterSeq: number): string {
  return `/sse/modems/${id}?after=${afterSeq}`;
}

export function ModemPage(p: ModemPageProps): JSX.Element {
  const from = p.now - 24 * 3600_000;
  const pts = (f: (s: SamplePoint) => number | null) => p.history.map((s) => ({ t: new Date(s.ts).getTime(), v: f(s) }));
  return (
    <Layout title={`Modem ${p.m.slot ?? p.m.id}`} user={p.user} nodeId={p.nodeId} banner={p.banner} active="dashboard" keepalive>
      <div class="page-head">
        <h1 safe>{`Modem ${p.m.slot ?? `#${p.m.id}`}`}</h1>
        <span class="muted mono" safe>{p.m.imei}</span>
      </div>
      {p.canOperate ? (
        <section class="card">
          <h2>Actions</h2>
          <ActionButtons id={p.m.id} proxyEnabled={p.m.proxy_enabled} />
          <ul id="jobs" class="jobs">{p.jobs.map((j) => <JobLine j={j} />)}</ul>
        </section>
      ) : ""}
      <ModemPanels m={p.m} o={p.panel} />
      <ProxyPanel m={p.m} proxy={p.proxy} o={p.proxyPanel} />
      {p.canOperate ? (
        <section class="card">
          <h2>Secure rotation link</h2>
          <RotationLink id={p.m.id} exists={p.m.has_rotation_link} />
        </section>
      ) : ""}
      <section class="card">
        <h2>Signal history (24 h)</h2>
        <div class="plots">
          <Plot id="plot-rsrp" title="RSRP" unit="dBm" cls="plot-rsrp" points={pts((s) => s.rsrp)} from={from} to={p.now} />
          <Plot id="plot-sinr" title="SINR" unit="dB" cls="plot-sinr" points={pts((s) => p.panel.sinr(s.sinr_raw))} from={from} to={p.now} />
          <Plot id="plot-rtt" title="RTT" unit="ms" cls="plot-rtt" points={pts((s) => s.rtt_ms)} from={from} to={p.now} yMin={0} />
        </div>
      </section>
      <section class="card">
        <h2>Timeline</h2>
        <Timeline events={p.events} />
      </section>
      {p.sms !== null ? (
        <section class="card" id="sms">
          <h2>SMS</h2>
          <SmsList sms={p.sms} />
          {p.canOperate ? <SmsPoke id={p.m.id} /> : ""}
          {p.canOperate ? <SmsForm id={p.m.id} /> : ""}
          <h3>USSD</h3>
          {p.canOperate ? <UssdForm id={p.m.id} /> : ""}
        </section>
      ) : ""}
      {p.canOperate ? <AtConsole id={p.m.id} /> : ""}
      <div id="live" class="live" hx-sse:connect={modemSseUrl(p.m.id, p.afterSeq)} hx-swap="none">
        <span class="dot"></span> live
      </div>
    </Layout>
  );
}
