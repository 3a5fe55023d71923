import type { ModemDetail } from "../../src/http/queries/modem-rows.ts";
import type { ProxyRow } from "../../src/http/queries/misc.ts";
import { StateBadge } from "../components/state-badge.tsx";
import { SignalBars } from "../components/signal-bars.tsx";
import { ago, bandShort, bytes, dash, ms, ts } from "../components/format.ts";

function Field({ k, v, mono }: { k: string; v: string; mono?: boolean }): JSX.Element {
  return (
    <>
      <dt safe>{k}</dt>
      <dd class={mono ? "mono" : ""} safe>{v}</dd>
    </>
  );
}

export interface PanelOptions {
  sinr: (raw: number | null) => number | null;
  now?: number;
}

export interface ProxyPanelOptions {
  /** host shown in proxy endpoints (configured public host, else the host the browser used) */
  proxyHost: string;
  /** technicians and admins see proxy passwords */
  showSecrets: boolean;
  now?: number;
}

/**
 * Identity, radio and data connection: replaced as one block by live updates of this modem. The proxy panel is
 * separate because it depends on the viewer (passwords for technicians, the host they reached us by).
 */
export function ModemPanels({ m, o }: { m: ModemDetail; o: PanelOptions }): JSX.Element {
  const sinr = o.sinr(m.sinr_raw);
  return (
    <div id="modem-status" class="panels">
      <section class="card">
        <h2>Identity</h2>
        <dl>
          <Field k="Slot" v={dash(m.slot)} />
          <Field k="IMEI" v={m.imei} mono />
          <Field k="ICCID" v={dash(m.iccid)} mono />
          <Field k="IMSI" v={dash(m.imsi)} mono />
          <Field k="Model" v={[m.manufacturer, m.model].filter(Boolean).join(" ") || "–"} />
          <Field k="Firmware" v={dash(m.firmware)} mono />
          <Field k="USB" v={[m.hub, m.usb_device].filter(Boolean).join(" · ") || "–"} mono />
          <Field k="Ports" v={[m.at_path, m.qmi_path, m.ifname].filter(Boolean).join(" · ") || "–"} mono />
          <Field k="Node" v={m.node_id} />
        </dl>
      </section>
      <section class="card">
        <h2>Radio</h2>
        <dl>
          <dt>State</dt>
          <dd><StateBadge state={m.state} reason={m.state_reason} /> <span class="muted" safe>{`since ${ago(m.state_since, o.now)}`}</span></dd>
          {m.state_reason ? <Field k="Reason" v={m.state_reason} /> : ""}
          <Field k="SIM" v={dash(m.sim_state)} />
          <Field k="Operator" v={[m.operator, m.operator_code ? `(${m.operator_code})` : null].filter(Boolean).join(" ") || "–"} />
          <Field k="Registration" v={dash(m.registration)} />
          <Field k="RAT / band" v={[m.rat, bandShort(m.band)].filter(Boolean).join(" ") || "–"} />
          <Field k="Cell" v={dash(m.cell_id)} mono />
          <dt>Signal</dt>
          <dd><SignalBars rsrp={m.rsrp} sinr={sinr} /></dd>
          <Field k="CSQ / RSSI" v={`${dash(m.csq)} / ${m.rssi === null ? "–" : `${m.rssi} dBm`}`} />
          <Field k="RSRQ / SINR" v={`${m.rsrq === null ? "–" : `${m.rsrq} dB`} / ${sinr === null ? "–" : `${Math.round(sinr * 10) / 10} dB`}`} />
          <Field k="Temperature" v={m.temperature === null ? "–" : `${m.temperature} °C`} />
        </dl>
      </section>
      <section class="card">
        <h2>Data connection</h2>
        <dl>
          <Field k="Interface" v={dash(m.ifname)} mono />
          <Field k="WAN IP" v={m.wan_ip ? `${m.wan_ip}${m.wan_prefix ? `/${m.wan_prefix}` : ""}` : "–"} mono />
          <Field k="DNS" v={m.dns?.join(", ") || "–"} mono />
          <Field k="MTU" v={dash(m.mtu)} />
          <Field k="Public IP" v={dash(m.public_ip)} mono />
          <Field k="RTT" v={ms(m.rtt_ms)} />
          <Field k="Traffic" v={`↑ ${bytes(m.bytes_tx)} ↓ ${bytes(m.bytes_rx)}`} />
          <Field k="Route table" v={dash(m.route_table)} />
          <Field k="Last seen" v={ts(m.last_seen_at)} />
        </dl>
      </section>
    </div>
  );
}

export function ProxyPanel({ m, proxy, o }: { m: ModemDetail; proxy: ProxyRow | null; o: ProxyPanelOptions }): JSX.Element {
  const endpoint = m.proxy_port === null ? "–" : `${o.proxyHost}:${m.proxy_port}`;
  return (
      <section class="card" id="modem-proxy">
        <h2>Proxy</h2>
        <dl>
          <Field k="Endpoint" v={endpoint} mono />
          <Field k="Enabled" v={m.proxy_enabled ? "yes" : "no"} />
          <Field k="Protocols" v="HTTP, HTTPS (CONNECT), SOCKS5" />
          <Field k="Rotation" v={`${m.rotation_method}${m.rotation_schedule ? `, ${m.rotation_schedule}` : ""}; last ${ago(m.last_rotation_at, o.now)}`} />
        </dl>
        {proxy && proxy.credentials.length ? (
          <table class="grid small">
            <thead><tr><th>User</th><th>Password</th><th>Scope</th><th>URL</th></tr></thead>
            <tbody>
              {proxy.credentials.map((c) => {
                const password: string = o.showSecrets ? c.password : "••••••";
                const url: string = o.showSecrets && m.proxy_port !== null ? `http://${c.username}:${c.password}@${endpoint}` : "–";
                return (
                  <tr>
                    <td class="mono" safe>{c.username}</td>
                    <td class="mono" safe>{password}</td>
                    <td>{c.scope}</td>
                    <td class="mono" safe>{url}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : <p class="muted">No proxy credentials (auth mode may be whitelist only).</p>}
      </section>
  );
}
