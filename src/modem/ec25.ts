/**
 * Quectel EC25 (EC25-EUX) driver: only what differs from the generic 3GPP layer (ModemManager's plugin style).
 *  - ICCID through AT+QCCID (AT+CCID / AT+ICCID are not EC25 commands, ec25.md §4.1);
 *  - model and firmware from one ATI (`Quectel` / `EC25` / `Revision: …`, [T 01]) instead of CGMI/CGMM/CGMR;
 *  - band, EARFCN and the numeric operator from AT+QNWINFO; RSRP/RSRQ/RSSI/SINR and the cell from
 *    AT+QENG="servingcell" (keyword quoted, [T 09]); temperature from AT+QTEMP (ec25.md §4.3);
 *  - the RmNet data call through AT$QCRMCALL without a QMI client (ec25.md §4.5).
 */
import { AppError } from "../lib/errors.ts";
import type { DataCallResult, ModemIdentity, ModemStatus } from "./driver-types.ts";
import { Generic3gppDriver } from "./generic-3gpp.ts";
import { parseAtiExec, parseQccidExec } from "./parsers/identity.ts";
import { parseQnwinfoExec } from "./parsers/network-info.ts";
import { parseQcrmcallWrite } from "./parsers/qcrmcall.ts";
import { parseQengWrite } from "./parsers/serving-cell.ts";
import { parseQtempExec } from "./parsers/temperature.ts";

export class Ec25Driver extends Generic3gppDriver {
  override readonly kind: string = "quectel-ec25";

  protected override async readIccid(): Promise<string | null> {
    const r = await this.query("AT+QCCID");
    const p = r ? parseQccidExec(r.lines) : null;
    return p?.ok ? p.value.iccid : null;
  }

  protected override async readModelInfo(): Promise<Pick<ModemIdentity, "manufacturer" | "model" | "firmware">> {
    const r = await this.query("ATI");
    const p = r ? parseAtiExec(r.lines) : null;
    if (!p?.ok) return super.readModelInfo();
    return { manufacturer: p.value.manufacturer, model: p.value.model, firmware: p.value.revision };
  }

  protected override async readRadioDetails(s: ModemStatus): Promise<void> {
    const nw = await this.query("AT+QNWINFO");
    const info = nw ? parseQnwinfoExec(nw.lines) : null;
    if (info?.ok && !info.value.noService) {
      s.rat = info.value.family ?? info.value.act ?? s.rat;
      s.band = info.value.band;
      s.earfcn = info.value.channel;
      if (info.value.operator) s.operator = { name: s.operator?.name ?? null, numeric: info.value.operator };
    }
    const qeng = await this.query('AT+QENG="servingcell"');
    const cell = qeng ? parseQengWrite(qeng.lines) : null;
    if (cell?.ok && cell.value.rat === "LTE") {
      const c = cell.value;
      s.rsrp = c.rsrp;
      s.rsrq = c.rsrq;
      s.rssi = c.rssi ?? s.rssi;
      s.sinrRaw = c.sinrRaw;
      s.cellId = c.cellId ?? s.cellId;
      s.earfcn ??= c.earfcn;
      if (s.band === null && c.band !== null) s.band = `LTE BAND ${c.band}`;
    }
  }

  protected override async readTemperature(): Promise<number | null> {
    const r = await this.query("AT+QTEMP");
    const p = r ? parseQtempExec(r.lines) : null;
    return p?.ok ? p.value.max : null;
  }

  /** `AT$QCRMCALL=1,1` → `$QCRMCALL: 1,V4` then OK; `=0,1` stops instance 1 (ec25.md §4.5). */
  override async dataCall(action: "start" | "stop"): Promise<DataCallResult> {
    if (action !== "start" && action !== "stop") throw new AppError("MODEM_BAD_ARGUMENT", "data call action must be start or stop");
    const r = await this.command(action === "start" ? "AT$QCRMCALL=1,1" : "AT$QCRMCALL=0,1");
    if (action === "stop") return { connected: false, ipv4: false, ipv6: false };
    const p = parseQcrmcallWrite(r.lines);
    // OK without a $QCRMCALL line: the manual's numeric variants aside [? §8 item 8], the call is up.
    if (!p.ok || p.value.calls.length === 0) return { connected: true, ipv4: true, ipv6: false };
    return { connected: p.value.connected, ipv4: p.value.ipv4, ipv6: p.value.ipv6 };
  }
}

/** The driver for a modem: EC25 unless the caller knows better (the manager only meets 2c7c:0125). */
export function createDriver(channel: ConstructorParameters<typeof Generic3gppDriver>[0], kind: "ec25" | "generic" = "ec25"): Generic3gppDriver {
  return kind === "generic" ? new Generic3gppDriver(channel) : new Ec25Driver(channel);
}
