/**
 * Parses a qmicli command line the way GOption does (pure): "--opt=value" or "--opt value", "-d path" or "-dpath".
 * Only the options a proxy farm uses are known (ec25.md §5); anything else is "Unknown option", as qmicli says.
 */
export type QmiActionService = "wds" | "dms" | "nas" | "wda" | "generic";

export interface QmiAction {
  /** Option name without dashes: "wds-start-network", "get-wwan-iface". */
  name: string;
  value?: string;
  service: QmiActionService;
}

export interface QmicliInvocation {
  device?: string;
  clientCid?: string;
  noRelease: boolean;
  actions: QmiAction[];
  help: boolean;
  version: boolean;
}

/** Options that take a value. */
const VALUE_OPTIONS = new Set([
  "device", "device-open-net", "client-cid", "set-expected-data-format", "wds-start-network", "wds-stop-network",
  "dms-set-operating-mode", "device-open-qrtr",
]);

/** Options that are accepted and have no effect in the lab (device opening flags, verbosity). */
const IGNORED_FLAGS = new Set([
  "device-open-proxy", "device-open-qmi", "device-open-mbim", "device-open-auto", "device-open-sync",
  "verbose", "verbose-full", "silent", "wds-follow-network",
]);

/** Actions without a value. */
const ACTIONS = new Set([
  "wds-get-current-settings", "wds-get-packet-service-status", "wds-noop",
  "dms-get-ids", "dms-get-revision", "dms-get-model", "dms-get-manufacturer", "dms-get-operating-mode", "dms-noop",
  "nas-get-signal-strength", "nas-noop", "wda-get-data-format", "wda-noop",
  "get-wwan-iface", "get-expected-data-format",
]);

const SHORT: Record<string, string> = {
  d: "device", p: "device-open-proxy", v: "verbose", w: "get-wwan-iface", e: "get-expected-data-format",
  h: "help", V: "version",
};

function serviceOf(name: string): QmiActionService {
  const prefix = name.split("-")[0];
  return prefix === "wds" || prefix === "dms" || prefix === "nas" || prefix === "wda" ? prefix : "generic";
}

/** Parsed invocation, or an error message as qmicli prints it after "error: ". */
export function parseQmicliArgs(argv: readonly string[]): { ok: true; inv: QmicliInvocation } | { ok: false; error: string } {
  const inv: QmicliInvocation = { noRelease: false, actions: [], help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string;
    let value: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      value = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (arg.startsWith("-") && arg.length >= 2) {
      const long = SHORT[arg[1]!];
      if (!long) return { ok: false, error: `Unknown option ${arg}` };
      name = long;
      if (arg.length > 2) value = arg.slice(2).replace(/^=/, "");
    } else {
      continue; // GOption leaves stray arguments alone; qmicli ignores them
    }
    if (name === "help" || name === "help-all") { inv.help = true; continue; }
    if (name === "version") { inv.version = true; continue; }
    if (name === "client-no-release-cid") { inv.noRelease = true; continue; }
    if (IGNORED_FLAGS.has(name)) continue;
    if (VALUE_OPTIONS.has(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) return { ok: false, error: `Missing argument for ${arg}` };
        value = argv[++i]!;
      }
      if (name === "device") inv.device = value;
      else if (name === "client-cid") inv.clientCid = value;
      else if (name !== "device-open-net" && name !== "device-open-qrtr") inv.actions.push({ name, value, service: serviceOf(name) });
      continue;
    }
    if (ACTIONS.has(name)) {
      inv.actions.push({ name, service: serviceOf(name) });
      continue;
    }
    return { ok: false, error: `Unknown option ${arg.split("=")[0]}` };
  }
  return { ok: true, inv };
}

/** The key=value list of --wds-start-network ("apn='internet',ip-type=4"); legacy "apn[,auth,user,pass]" too. */
export function parseStartNetwork(text: string): { ok: true; apn?: string; ipType?: 4 | 6; profile?: number; user?: string }
  | { ok: false; error: string } {
  if (text === "") return { ok: true };
  if (!text.includes("=")) {
    const [apn, , user] = text.split(",");
    return { ok: true, apn, user };
  }
  const out: { apn?: string; ipType?: 4 | 6; profile?: number; user?: string } = {};
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim().replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");
    if (eq < 0 || value === "") return { ok: false, error: `couldn't parse input string: key '${key || part}' required a value` };
    if (key === "apn") out.apn = value;
    else if (key === "ip-type") {
      if (value === "4" || value === "ipv4") out.ipType = 4;
      else if (value === "6" || value === "ipv6") out.ipType = 6;
      else return { ok: false, error: `couldn't parse input string: unknown IP type '${value}' (not 4 or 6)` };
    } else if (key === "3gpp-profile") out.profile = Number(value);
    else if (key === "username") out.user = value;
    else if (["password", "auth", "autoconnect", "3gpp2-profile"].includes(key)) continue;
    else return { ok: false, error: `couldn't parse input string: unrecognized or duplicate option '${key}'` };
  }
  return { ok: true, ...out };
}
