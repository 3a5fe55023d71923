/**
 * +CME ERROR (3GPP 27.007 §9.2) and +CMS ERROR (27.005 §3.2.5) tables mapped to stable SCREAMING_SNAKE codes
 * (ec25.md §3.3). Numeric (`AT+CMEE=1`) and verbose (`AT+CMEE=2`) forms map to the same code, and the same
 * condition gets the same code in both tables (CME 10 and CMS 310 are both SIM_NOT_INSERTED).
 */

export interface ModemErrorInfo {
  /** Stable code, e.g. "SIM_NOT_INSERTED"; "CME_UNKNOWN"/"CMS_UNKNOWN" when the number/text is not in the table. */
  code: string;
  /** The numeric error when known (given, or looked up from the verbose text). */
  number: number | null;
  /** The standard English text (or the device's text for unknown entries). */
  message: string;
  known: boolean;
}

type Entry = readonly [number, string, string];

const CME: readonly Entry[] = [
  [0, "PHONE_FAILURE", "phone failure"],
  [1, "NO_CONNECTION_TO_PHONE", "no connection to phone"],
  [2, "PHONE_ADAPTOR_LINK_RESERVED", "phone-adaptor link reserved"],
  [3, "OPERATION_NOT_ALLOWED", "operation not allowed"],
  [4, "OPERATION_NOT_SUPPORTED", "operation not supported"],
  [5, "PH_SIM_PIN_REQUIRED", "PH-SIM PIN required"],
  [6, "PH_FSIM_PIN_REQUIRED", "PH-FSIM PIN required"],
  [7, "PH_FSIM_PUK_REQUIRED", "PH-FSIM PUK required"],
  [10, "SIM_NOT_INSERTED", "SIM not inserted"],
  [11, "SIM_PIN_REQUIRED", "SIM PIN required"],
  [12, "SIM_PUK_REQUIRED", "SIM PUK required"],
  [13, "SIM_FAILURE", "SIM failure"],
  // Expected for a few seconds after boot or CFUN=1 (ec25.md §4.2).
  [14, "SIM_BUSY", "SIM busy"],
  [15, "SIM_WRONG", "SIM wrong"],
  [16, "INCORRECT_PASSWORD", "incorrect password"],
  [17, "SIM_PIN2_REQUIRED", "SIM PIN2 required"],
  [18, "SIM_PUK2_REQUIRED", "SIM PUK2 required"],
  [20, "MEMORY_FULL", "memory full"],
  [21, "INVALID_INDEX", "invalid index"],
  [22, "NOT_FOUND", "not found"],
  [23, "MEMORY_FAILURE", "memory failure"],
  [24, "TEXT_TOO_LONG", "text string too long"],
  [25, "INVALID_TEXT_CHARACTERS", "invalid characters in text string"],
  [26, "DIAL_STRING_TOO_LONG", "dial string too long"],
  [27, "INVALID_DIAL_CHARACTERS", "invalid characters in dial string"],
  [30, "NO_NETWORK_SERVICE", "no network service"],
  [31, "NETWORK_TIMEOUT", "network timeout"],
  [32, "EMERGENCY_CALLS_ONLY", "network not allowed - emergency calls only"],
  [40, "NETWORK_PERSONALIZATION_PIN_REQUIRED", "network personalization PIN required"],
  [41, "NETWORK_PERSONALIZATION_PUK_REQUIRED", "network personalization PUK required"],
  [42, "NETWORK_SUBSET_PERSONALIZATION_PIN_REQUIRED", "network subset personalization PIN required"],
  [43, "NETWORK_SUBSET_PERSONALIZATION_PUK_REQUIRED", "network subset personalization PUK required"],
  [44, "SERVICE_PROVIDER_PERSONALIZATION_PIN_REQUIRED", "service provider personalization PIN required"],
  [45, "SERVICE_PROVIDER_PERSONALIZATION_PUK_REQUIRED", "service provider personalization PUK required"],
  [46, "CORPORATE_PERSONALIZATION_PIN_REQUIRED", "corporate personalization PIN required"],
  [47, "CORPORATE_PERSONALIZATION_PUK_REQUIRED", "corporate personalization PUK required"],
  [50, "INCORRECT_PARAMETERS", "incorrect parameters"],
  [100, "UNKNOWN_ERROR", "unknown"],
  [103, "ILLEGAL_MS", "illegal MS"],
  [106, "ILLEGAL_ME", "illegal ME"],
  [107, "GPRS_NOT_ALLOWED", "GPRS services not allowed"],
  [111, "PLMN_NOT_ALLOWED", "PLMN not allowed"],
  [112, "LOCATION_AREA_NOT_ALLOWED", "location area not allowed"],
  [113, "ROAMING_NOT_ALLOWED", "roaming not allowed in this location area"],
  [132, "SERVICE_OPTION_NOT_SUPPORTED", "service option not supported"],
  [133, "SERVICE_OPTION_NOT_SUBSCRIBED", "requested service option not subscribed"],
  [134, "SERVICE_OPTION_OUT_OF_ORDER", "service option temporarily out of order"],
  [148, "GPRS_UNSPECIFIED", "unspecified GPRS error"],
  [149, "PDP_AUTHENTICATION_FAILURE", "PDP authentication failure"],
  [150, "INVALID_MOBILE_CLASS", "invalid mobile class"],
];

const CMS: readonly Entry[] = [
  [1, "SMS_UNASSIGNED_NUMBER", "unassigned (unallocated) number"],
  [8, "SMS_OPERATOR_BARRING", "operator determined barring"],
  [10, "SMS_CALL_BARRED", "call barred"],
  [21, "SMS_TRANSFER_REJECTED", "short message transfer rejected"],
  [27, "SMS_DESTINATION_OUT_OF_SERVICE", "destination out of service"],
  [28, "SMS_UNIDENTIFIED_SUBSCRIBER", "unidentified subscriber"],
  [29, "SMS_FACILITY_REJECTED", "facility rejected"],
  [30, "SMS_UNKNOWN_SUBSCRIBER", "unknown subscriber"],
  [38, "SMS_NETWORK_OUT_OF_ORDER", "network out of order"],
  [41, "SMS_TEMPORARY_FAILURE", "temporary failure"],
  [42, "SMS_CONGESTION", "congestion"],
  [47, "SMS_RESOURCES_UNAVAILABLE", "resources unavailable, unspecified"],
  [50, "SMS_FACILITY_NOT_SUBSCRIBED", "requested facility not subscribed"],
  [69, "SMS_FACILITY_NOT_IMPLEMENTED", "requested facility not implemented"],
  [81, "SMS_INVALID_REFERENCE", "invalid short message transfer reference value"],
  [95, "SMS_INVALID_MESSAGE", "invalid message, unspecified"],
  [96, "SMS_INVALID_MANDATORY_INFORMATION", "invalid mandatory information"],
  [97, "SMS_MESSAGE_TYPE_NONEXISTENT", "message type non-existent or not implemented"],
  [98, "SMS_MESSAGE_INCOMPATIBLE", "message not compatible with short message protocol state"],
  [99, "SMS_IE_NONEXISTENT", "information element non-existent or not implemented"],
  [111, "SMS_PROTOCOL_ERROR", "protocol error, unspecified"],
  [127, "SMS_INTERWORKING_ERROR", "interworking, unspecified"],
  [300, "ME_FAILURE", "ME failure"],
  [301, "SMS_SERVICE_RESERVED", "SMS service of ME reserved"],
  [302, "OPERATION_NOT_ALLOWED", "operation not allowed"],
  [303, "OPERATION_NOT_SUPPORTED", "operation not supported"],
  [304, "INVALID_PDU_PARAMETER", "invalid PDU mode parameter"],
  [305, "INVALID_TEXT_PARAMETER", "invalid text mode parameter"],
  [310, "SIM_NOT_INSERTED", "SIM not inserted"],
  [311, "SIM_PIN_REQUIRED", "SIM PIN required"],
  [312, "PH_SIM_PIN_REQUIRED", "PH-SIM PIN required"],
  [313, "SIM_FAILURE", "SIM failure"],
  [314, "SIM_BUSY", "SIM busy"],
  [315, "SIM_WRONG", "SIM wrong"],
  [316, "SIM_PUK_REQUIRED", "SIM PUK required"],
  [317, "SIM_PIN2_REQUIRED", "SIM PIN2 required"],
  [318, "SIM_PUK2_REQUIRED", "SIM PUK2 required"],
  [320, "MEMORY_FAILURE", "memory failure"],
  [321, "INVALID_INDEX", "invalid memory index"],
  [322, "MEMORY_FULL", "memory full"],
  [330, "SMSC_ADDRESS_UNKNOWN", "SMSC address unknown"],
  [331, "NO_NETWORK_SERVICE", "no network service"],
  [332, "NETWORK_TIMEOUT", "network timeout"],
  [340, "NO_CNMA_EXPECTED", "no +CNMA acknowledgement expected"],
  [500, "UNKNOWN_ERROR", "unknown error"],
];

/** Extra verbose spellings seen in manuals/firmwares that differ from the 27.007 text. */
const CME_ALIASES: Record<string, string> = {
  unknownerror: "UNKNOWN_ERROR",
  invalidparameters: "INCORRECT_PARAMETERS",
  invalidparameter: "INCORRECT_PARAMETERS",
  simnotinsert: "SIM_NOT_INSERTED",
  nosim: "SIM_NOT_INSERTED",
  networknotallowedemergencycallsonly: "EMERGENCY_CALLS_ONLY",
};

function key(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, "");
}

interface Table {
  byNumber: Map<number, Entry>;
  byText: Map<string, Entry>;
  unknownCode: string;
}

function buildTable(entries: readonly Entry[], aliases: Record<string, string>, unknownCode: string): Table {
  const byNumber = new Map<number, Entry>();
  const byText = new Map<string, Entry>();
  for (const e of entries) {
    byNumber.set(e[0], e);
    byText.set(key(e[2]), e);
  }
  for (const [alias, code] of Object.entries(aliases)) {
    const e = entries.find((x) => x[1] === code);
    if (e) byText.set(alias, e);
  }
  return { byNumber, byText, unknownCode };
}

const CME_TABLE = buildTable(CME, CME_ALIASES, "CME_UNKNOWN");
const CMS_TABLE = buildTable(CMS, CME_ALIASES, "CMS_UNKNOWN");

function lookup(t: Table, value: number | string): ModemErrorInfo {
  let num: number | null = null;
  let text: string | null = null;
  if (typeof value === "number") num = Number.isInteger(value) ? value : null;
  else {
    const s = String(value).trim();
    if (/^\d{1,6}$/.test(s)) num = Number.parseInt(s, 10);
    else text = s;
  }
  const e = num !== null ? t.byNumber.get(num) : text !== null ? t.byText.get(key(text)) : undefined;
  if (e) return { code: e[1], number: e[0], message: e[2], known: true };
  return { code: t.unknownCode, number: num, message: text ?? (num !== null ? `error ${num}` : "unknown error"), known: false };
}

/** Maps a `+CME ERROR:` value (number or verbose text, as given by classifyFinal) to a stable code. */
export function lookupCmeError(value: number | string): ModemErrorInfo {
  return lookup(CME_TABLE, value);
}

/** Maps a `+CMS ERROR:` value (number or verbose text) to a stable code. */
export function lookupCmsError(value: number | string): ModemErrorInfo {
  return lookup(CMS_TABLE, value);
}

/** Every stable code either table can produce (for docs, metrics labels and tests). */
export function allModemErrorCodes(): string[] {
  const s = new Set<string>([CME_TABLE.unknownCode, CMS_TABLE.unknownCode]);
  for (const e of CME) s.add(e[1]);
  for (const e of CMS) s.add(e[1]);
  return [...s].sort();
}
