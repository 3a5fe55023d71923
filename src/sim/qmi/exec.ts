/**
 * Runs one qmicli invocation against a simulated modem, inside the sim process (the lab qmicli executable only
 * forwards its argv over the slot's qmi socket). Mirrors qmicli's flow: parse → allocate (or reuse) a client →
 * run the action → release the CID unless --client-no-release-cid. Output strings come from format.ts.
 */
import type { SimModem } from "../modem/modem.ts";
import { parseQmicliArgs, parseStartNetwork, type QmiAction } from "./args.ts";
import type { QmiService } from "./clients.ts";
import * as fmt from "./format.ts";

export interface QmiRun {
  stdout: string;
  stderr: string;
  code: number;
}

interface ActionResult {
  stdout?: string;
  stderr?: string;
  ok: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const fail = (stderr: string, stdout = ""): QmiRun => ({ stdout, stderr, code: 1 });

/** Error prefix qmicli uses per action ("couldn't get current settings: …"). */
const FAILURE_TEXT: Record<string, string> = {
  "wds-start-network": "couldn't start network",
  "wds-stop-network": "couldn't stop network",
  "wds-get-current-settings": "couldn't get current settings",
  "wds-get-packet-service-status": "couldn't get packet service status",
  "dms-get-ids": "couldn't get IDs",
  "dms-get-revision": "couldn't get revision",
  "dms-get-model": "couldn't get model",
  "dms-get-manufacturer": "couldn't get manufacturer",
  // qmicli really says "HW revision" here (copy-paste in qmicli-dms.c).
  "dms-get-operating-mode": "couldn't get the HW revision",
  "dms-set-operating-mode": "couldn't set operating mode",
  "nas-get-signal-strength": "couldn't get signal strength",
  "wda-get-data-format": "couldn't get data format",
};

const OPERATING_MODES: Record<string, 0 | 1 | 4 | "reset"> = {
  online: 1, "low-power": 4, "persistent-low-power": 4, "mode-only-low-power": 4, offline: 0, reset: "reset",
};

export const QMICLI_HELP = `Usage:
  qmicli [OPTION?] - Control QMI devices

(lteproxy lab qmicli: a simulator of libqmi's qmicli for the lab's EC25 modems)
  -d, --device=[PATH]                      Specify device path (DIR/<slot>/qmi)
  --client-cid=[CID]                       Use the given CID, don't allocate a new one
  --client-no-release-cid                  Do not release the CID when exiting
  -p, --device-open-proxy                  Accepted, no effect in the lab
  --wds-start-network=["key=value,..."]    Start network (apn, 3gpp-profile, username, password, auth, ip-type)
  --wds-stop-network=[PDH]                 Stop network
  --wds-get-current-settings               Get current settings
  --wds-get-packet-service-status          Get packet service status
  --wds-noop                               Just allocate or release a WDS client
  --dms-get-ids | --dms-get-revision | --dms-get-model | --dms-get-manufacturer | --dms-get-operating-mode
  --dms-set-operating-mode=[online|low-power|offline|reset]
  --nas-get-signal-strength                Get signal strength
  --wda-get-data-format                    Get data format
  -w, --get-wwan-iface                     Get the WWAN iface name
  -e, --get-expected-data-format           Get the expected data format
  --set-expected-data-format=[raw-ip|802-3]
`;

export async function runQmicli(modem: SimModem, argv: readonly string[]): Promise<QmiRun> {
  const parsed = parseQmicliArgs(argv);
  if (!parsed.ok) return fail(`error: ${parsed.error}\n`);
  const inv = parsed.inv;
  if (inv.help) return { stdout: QMICLI_HELP, stderr: "", code: 0 };
  if (inv.version) return { stdout: "qmicli 1.34.0 (lteproxy lab)\n", stderr: "", code: 0 };
  if (!inv.device) return fail("error: no device path specified\n");
  const dev = inv.device;
  if (inv.actions.length === 0) return fail("error: no actions specified\n");
  const services = new Set(inv.actions.map((a) => a.service));
  if (services.size > 1) return fail("error: cannot execute multiple actions of different services\n");
  const action = inv.actions[0]!;
  if (inv.actions.length > 1) return fail(`error: too many ${action.service.toUpperCase()} actions requested\n`);
  if (action.service === "generic") return generic(modem, dev, action);

  const service = action.service as QmiService;
  if (modem.faults.hang) {
    await sleep(modem.timings.qmiTimeoutMs);
    return fail(fmt.clientTimeout(service));
  }
  let cid: number;
  if (inv.clientCid !== undefined) {
    const n = Number.parseInt(inv.clientCid, 10);
    if (!(n >= 1 && n <= 255)) return fail(`error: invalid CID given '${inv.clientCid}'\n`);
    cid = n;
  } else {
    const got = modem.qmi.allocate(service);
    if (got === undefined) {
      return fail(`error: couldn't create client for the '${service}' service: ${fmt.protocolError(5, "ClientIdsExhausted")}\n`);
    }
    cid = got;
  }
  let result: ActionResult;
  if (!modem.qmi.has(service, cid) && !action.name.endsWith("-noop")) {
    // The lab answers requests on an unknown client id with InvalidClientId (a real module may just stay silent).
    result = { ok: false, stderr: `error: ${FAILURE_TEXT[action.name] ?? "operation failed"}: ${fmt.protocolError(7, "InvalidClientId")}\n` };
  } else {
    result = await serviceAction(modem, dev, action, cid);
  }
  let stdout = result.stdout ?? "";
  if (inv.noRelease) stdout += fmt.notReleased(dev, service, cid);
  else await modem.releaseQmiClient(service, cid);
  return { stdout, stderr: result.stderr ?? "", code: result.ok ? 0 : 1 };
}

function generic(modem: SimModem, dev: string, action: QmiAction): QmiRun {
  if (action.name === "get-wwan-iface") {
    const ifname = modem.enumeration?.ifname;
    return ifname ? { stdout: `${ifname}\n`, stderr: "", code: 0 } : fail("error: cannot get WWAN interface name\n");
  }
  if (action.name === "get-expected-data-format") {
    return { stdout: `${modem.rawIp ? "raw-ip" : "802-3"}\n`, stderr: "", code: 0 };
  }
  const format = action.value ?? "";
  if (format !== "raw-ip" && format !== "802-3") return fail(`error: invalid requested data format: ${format}`);
  modem.setRawIp(format === "raw-ip");
  return { stdout: fmt.expectedFormatSet(dev, format), stderr: "", code: 0 };
}

async function serviceAction(modem: SimModem, dev: string, action: QmiAction, cid: number): Promise<ActionResult> {
  const failText = FAILURE_TEXT[action.name] ?? "operation failed";
  switch (action.name) {
    case "wds-start-network": {
      const params = parseStartNetwork(action.value ?? "");
      if (!params.ok) return { ok: false, stderr: `error: ${params.error}\n` };
      const r = await modem.data.start({ kind: "qmi", cid }, { profile: params.profile, apn: params.apn });
      if (r.ok) return { ok: true, stdout: fmt.networkStarted(dev, r.session.pdh) };
      if (r.reason === "active" || r.reason === "busy") {
        return { ok: false, stderr: `error: ${failText}: ${fmt.protocolError(26, "NoEffect")}\n` };
      }
      if (r.reason === "no-sim" || r.reason === "no-service") return { ok: false, stderr: fmt.callFailed(r.reason) };
      return { ok: false, stderr: fmt.callFailed("unspecified") };
    }
    case "wds-stop-network": {
      const raw = action.value ?? "";
      const pdh = raw === "disable-autoconnect" ? 0xffffffff : raw.startsWith("0x") ? Number.parseInt(raw, 16) : Number(raw);
      if (!Number.isInteger(pdh) || pdh <= 0 || pdh > 0xffffffff) {
        return { ok: false, stderr: `error: invalid packet data handle given '${raw}'\n` };
      }
      const s = modem.data.session;
      const owned = s && s.owner.kind === "qmi" && s.owner.cid === cid && s.pdh === pdh;
      if (!owned) {
        return { ok: false, stdout: "Network cancelled... releasing resources\n",
          stderr: `error: ${failText}: ${fmt.protocolError(9, "InvalidHandle")}\n` };
      }
      await modem.data.stop();
      return { ok: true, stdout: fmt.networkStopped(dev) };
    }
    case "wds-get-current-settings": {
      const s = modem.data.session;
      if (!s) return { ok: false, stderr: `error: ${failText}: ${fmt.protocolError(15, "OutOfCall")}\n` };
      return { ok: true, stdout: fmt.currentSettings(dev, s.info) };
    }
    case "wds-get-packet-service-status":
      return { ok: true, stdout: fmt.packetStatus(dev, modem.data.active) };
    case "dms-get-ids":
      return { ok: true, stdout: fmt.deviceIds(dev, modem.identity.imei) };
    case "dms-get-revision":
      return { ok: true, stdout: fmt.revision(dev, modem.firmware) };
    case "dms-get-model":
      return { ok: true, stdout: fmt.model(dev, "QUECTEL Mobile Broadband Module") };
    case "dms-get-manufacturer":
      return { ok: true, stdout: fmt.manufacturer(dev, "QUALCOMM INCORPORATED") };
    case "dms-get-operating-mode":
      return { ok: true, stdout: fmt.operatingMode(dev, modem.radio.cfun === 1 ? "online" : modem.radio.cfun === 4 ? "low-power" : "offline") };
    case "dms-set-operating-mode": {
      const mode = OPERATING_MODES[action.value ?? ""];
      if (mode === undefined) return { ok: false, stderr: `error: invalid operating mode value given: '${action.value ?? ""}'\n` };
      if (mode === "reset") modem.reboot();
      else await modem.setCfun(mode);
      return { ok: true, stdout: fmt.operatingModeSet(dev) };
    }
    case "nas-get-signal-strength":
      if (!modem.radio.registered) return { ok: false, stderr: `error: ${failText}: ${fmt.protocolError(74, "InformationUnavailable")}\n` };
      return { ok: true, stdout: fmt.signalStrength(dev, modem.radio.signal) };
    case "wda-get-data-format":
      return { ok: true, stdout: fmt.dataFormat(dev) };
    default:
      return { ok: true }; // *-noop: only the client allocation/release happens
  }
}
