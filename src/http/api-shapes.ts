/** JSON shapes of the API (stable field names; the OpenAPI document describes the same). */
import type { DashboardRow, ModemDetail } from "./queries/modem-rows.ts";

/**
 * A modem in GET /api/v1/modems: the dashboard row (DashboardRow, from the modems columns), with the proxy port as
 * `port`, the traffic as `traffic_today_bytes` and SINR in dB beside the raw value.
 */
export interface ModemJson extends Omit<DashboardRow, "proxy_port" | "traffic_today"> {
  sinr: number | null;
  port: DashboardRow["proxy_port"];
  traffic_today_bytes: DashboardRow["traffic_today"];
}

export function modemJson(m: DashboardRow, sinr: (raw: number | null) => number | null): ModemJson {
  return {
    id: m.id, node_id: m.node_id, slot: m.slot, imei: m.imei, iccid: m.iccid, state: m.state, state_reason: m.state_reason, state_since: m.state_since,
    operator: m.operator, rat: m.rat, band: m.band, csq: m.csq, rsrp: m.rsrp, rsrq: m.rsrq, sinr: sinr(m.sinr_raw), sinr_raw: m.sinr_raw,
    temperature: m.temperature, rtt_ms: m.rtt_ms, wan_ip: m.wan_ip, public_ip: m.public_ip, port: m.proxy_port,
    proxy_enabled: m.proxy_enabled, last_rotation_at: m.last_rotation_at, traffic_today_bytes: m.traffic_today, updated_at: m.updated_at,
  };
}

export function modemDetailJson(m: ModemDetail, sinr: (raw: number | null) => number | null) {
  const { traffic_today: _t, has_rotation_link, ...rest } = m;
  return {
    ...modemJson(m, sinr),
    imsi: m.imsi, manufacturer: m.manufacturer, model: m.model, firmware: m.firmware, hub: m.hub,
    usb_device: m.usb_device, ifname: m.ifname, sim_state: m.sim_state, operator_code: m.operator_code,
    registration: m.registration, cell_id: m.cell_id, rssi: m.rssi, wan_prefix: m.wan_prefix, dns: m.dns, mtu: m.mtu,
    route_table: m.route_table, rotation_method: m.rotation_method, rotation_schedule: m.rotation_schedule,
    rotation_link: has_rotation_link, bytes_tx: m.bytes_tx, bytes_rx: m.bytes_rx, health: rest.health,
    last_seen_at: m.last_seen_at, created_at: m.created_at,
  };
}
