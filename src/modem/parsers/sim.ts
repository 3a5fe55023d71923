/**
 * SIM state (ec25.md §4.2): AT+CPIN? and its URC, AT+QSIMSTAT? and its URC.
 * A missing SIM makes AT+CPIN? fail with `+CME ERROR: 10` — that arrives as the final result, not here.
 */
import { cleanLines, findPrefixed, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export type SimState =
  | "READY"
  | "PIN_REQUIRED"
  | "PUK_REQUIRED"
  | "PIN2_REQUIRED"
  | "PUK2_REQUIRED"
  | "PH_SIM_PIN_REQUIRED"
  | "PH_NET_PIN_REQUIRED"
  | "NOT_READY"
  | "NOT_INSERTED"
  | "UNKNOWN";

export interface CpinInfo {
  state: SimState;
  /** As printed: `READY`, `SIM PIN`, `NOT READY`, … */
  raw: string;
  ready: boolean;
}

const CPIN_STATES: Record<string, SimState> = {
  READY: "READY",
  "SIM PIN": "PIN_REQUIRED",
  "SIM PUK": "PUK_REQUIRED",
  "SIM PIN2": "PIN2_REQUIRED",
  "SIM PUK2": "PUK2_REQUIRED",
  "PH-SIM PIN": "PH_SIM_PIN_REQUIRED",
  "PH-NET PIN": "PH_NET_PIN_REQUIRED",
  "NOT READY": "NOT_READY",
  "NOT INSERTED": "NOT_INSERTED",
  "SIM NOT INSERTED": "NOT_INSERTED",
};

function cpinFromPayload(payload: string | null): ParseResult<CpinInfo> {
  if (payload === null) return fail("CPIN: no +CPIN line");
  const raw = unquote(payload).trim();
  if (raw === "") return fail("CPIN: empty state");
  const state = CPIN_STATES[raw.toUpperCase().replace(/\s+/g, " ")] ?? "UNKNOWN";
  return ok({ state, raw, ready: state === "READY" });
}

/** `AT+CPIN?` → `+CPIN: READY` / `+CPIN: SIM PIN` / `+CPIN: SIM PUK` [T 07, T 36]. */
export const parseCpinRead = safe("CPIN", (lines: readonly string[]) => cpinFromPayload(findPrefixed(cleanLines(lines), "+CPIN")));

/** URC `+CPIN: READY` / `+CPIN: NOT READY` (SIM removed) [T 20, T 37]. */
export const parseCpinUrc = safe("CPIN", (line: string) => cpinFromPayload(findPrefixed(cleanLines([line]), "+CPIN")));

export type SimInsertion = "removed" | "inserted" | "unknown";

export interface QsimstatInfo {
  /** Whether the `+QSIMSTAT` URC is enabled. */
  reportEnabled: boolean;
  inserted: SimInsertion;
  insertedRaw: number;
}

const INSERTION: Record<number, SimInsertion> = { 0: "removed", 1: "inserted", 2: "unknown" };

function qsimstatFromPayload(payload: string | null): ParseResult<QsimstatInfo> {
  if (payload === null) return fail("QSIMSTAT: no +QSIMSTAT line");
  const f = splitFields(payload);
  const enable = toInt(f[0]);
  const ins = toInt(f[1]);
  if (enable === null || ins === null) return fail(`QSIMSTAT: expected <enable>,<inserted>, got ${snippet(payload)}`);
  return ok({ reportEnabled: enable === 1, inserted: INSERTION[ins] ?? "unknown", insertedRaw: ins });
}

/** `AT+QSIMSTAT?` → `+QSIMSTAT: 0,1` (report off, SIM inserted) [MAN, ec25.md §4.2]. */
export const parseQsimstatRead = safe("QSIMSTAT", (lines: readonly string[]) =>
  qsimstatFromPayload(findPrefixed(cleanLines(lines), "+QSIMSTAT")),
);

/** URC `+QSIMSTAT: 1,0` (removed) / `+QSIMSTAT: 1,1` (inserted). Same layout as the read answer. */
export const parseQsimstatUrc = safe("QSIMSTAT", (line: string) => qsimstatFromPayload(findPrefixed(cleanLines([line]), "+QSIMSTAT")));
