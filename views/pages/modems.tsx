import { Layout } from "../layout.tsx";

export interface ModemListRow {
  id: number;
  slot: string | null;
  imei: string;
  state: string;
  operator: string | null;
  rat: string | null;
  band: string | null;
  rsrp: number | null;
  wan_ip: string | null;
  public_ip: string | null;
  proxy_port: number | null;
}

export function ModemRow({ m }: { m: ModemListRow }): JSX.Element {
  return (
    <tr id={`modem-${m.id}`}>
      <td safe>{m.slot ?? "-"}</td>
      <td safe>{m.imei.slice(-6)}</td>
      <td class={`state state-${m.state}`} safe>{m.state}</td>
      <td safe>{m.operator ?? "-"}</td>
      <td safe>{[m.rat, m.band].filter(Boolean).join(" ") || "-"}</td>
      <td safe>{m.rsrp === null ? "-" : `${m.rsrp} dBm`}</td>
      <td safe>{m.wan_ip ?? "-"}</td>
      <td safe>{m.public_ip ?? "-"}</td>
      <td safe>{m.proxy_port === null ? "-" : String(m.proxy_port)}</td>
    </tr>
  );
}

export function ModemsPage({ modems, nodeId, banner }: { modems: ModemListRow[]; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Modems" nodeId={nodeId} banner={banner}>
      <h1>Modems</h1>
      <p class="muted" safe>{`${modems.length} modem(s)`}</p>
      <table class="grid" id="modems">
        <thead>
          <tr>
            <th>Slot</th><th>IMEI</th><th>State</th><th>Operator</th><th>RAT/band</th><th>RSRP</th>
            <th>WAN IP</th><th>Public IP</th><th>Port</th>
          </tr>
        </thead>
        <tbody>
          {modems.map((m) => <ModemRow m={m} />)}
        </tbody>
      </table>
    </Layout>
  );
}
