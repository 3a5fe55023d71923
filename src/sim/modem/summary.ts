/** How a simulated modem reports itself to `sim ctl list` and the control API (pure reads of its state). */
import type { QmiService } from "../qmi/clients.ts";
import type { SimModem, UsbState } from "./modem.ts";
import { csqIndex } from "./radio.ts";

export interface Faults {
  hang: boolean;
  wedge: boolean;
  slowMs: number;
  garbage: boolean;
  /** Probability that a reconnect keeps the same public IP (sticky CGNAT). */
  sticky: number;
  /** Command (prefix, upper-case, without "AT") → forced +CME ERROR code. */
  cme: Map<string, number>;
  linkDown: boolean;
}

/** What `sim ctl list` shows per modem. */
export interface ModemSummary {
  index: number;
  slot: string;
  hub: number;
  port: number;
  imei: string;
  iccid: string;
  imsi: string;
  state: string;
  private_ip: string | null;
  public_ip: string | null;
  usb: UsbState;
  cfun: number;
  reg: number;
  operator: string | null;
  rsrp: number | null;
  csq: number;
  at: string | null;
  tty: string | null;
  qmi: string | null;
  ifname: string | null;
  faults: string[];
  qmi_clients: Record<QmiService, number[]>;
  session: { owner: string; pdh: number; apn: string; since: string } | null;
}

/** Short state word for `list`. */
export function stateWord(m: SimModem): string {
  if (m.usbState !== "attached") return m.usbState;
  const r = m.radio;
  if (r.cfun !== 1) return "radio-off";
  if (!r.simPresent) return "no-sim";
  if (r.simState !== "ready") return "sim-init";
  if (m.data.active) return "connected";
  return ({ 0: "not-registered", 1: "registered", 2: "searching", 3: "denied", 5: "roaming" } as Record<number, string>)[r.regStat] ?? "unknown";
}

export function summarize(m: SimModem): ModemSummary {
  const r = m.radio;
  const en = m.enumeration;
  const s = m.data.session;
  const faults: string[] = [];
  if (m.faults.hang) faults.push("hang");
  if (m.faults.wedge) faults.push("wedge");
  if (m.faults.slowMs > 0) faults.push(`slow ${m.faults.slowMs}`);
  if (m.faults.garbage) faults.push("garbage");
  if (r.noService) faults.push("no-service");
  if (!r.simPresent) faults.push("no-sim");
  if (m.faults.sticky > 0) faults.push(`sticky ${m.faults.sticky}`);
  if (m.faults.linkDown) faults.push("link-down");
  for (const [k, v] of m.faults.cme) faults.push(`cme ${k} ${v}`);
  return {
    index: m.index,
    slot: m.topology.slot,
    hub: m.topology.hub,
    port: m.topology.port,
    imei: m.identity.imei,
    iccid: m.identity.sim.iccid,
    imsi: m.identity.sim.imsi,
    state: stateWord(m),
    private_ip: s?.info.privateIp ?? null,
    public_ip: s?.info.publicIp ?? null,
    usb: m.usbState,
    cfun: r.cfun,
    reg: r.regStat,
    operator: r.registered && r.cell ? r.cell.network.longName : null,
    rsrp: r.registered ? r.signal.rsrp : null,
    csq: r.registered ? csqIndex(r.signal.rssi) : 99,
    at: en ? en.atPath : null,
    tty: en ? `ttyUSB${en.ttys[2]}` : null,
    qmi: en?.qmiPath ?? null,
    ifname: en?.ifname ?? null,
    faults,
    qmi_clients: m.qmi.snapshot(),
    session: s ? { owner: s.owner.kind === "at" ? "at" : `qmi:${s.owner.cid}`, pdh: s.pdh, apn: s.apn, since: new Date(s.startedAt).toISOString() } : null,
  };
}
