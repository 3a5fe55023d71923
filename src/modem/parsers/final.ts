/**
 * Final result codes of V1 (verbose) mode (ec25.md §3.2-§3.4). Used by the AT engine to end a response.
 *
 * Order of use in the engine: `isUrc(line, pending)` first (a `NO CARRIER` while a non-dial command is pending
 * is a URC), then `classifyFinal(line)`, otherwise the line is an information line.
 */
import type { AtFinalKind } from "../at/types.ts";
import { lookupCmeError, lookupCmsError } from "./error-codes.ts";

export interface FinalResult {
  kind: AtFinalKind;
  /** CME/CMS: the error number (given, or looked up from verbose text); CONNECT: the rate when numeric. */
  code?: number;
  /** CME/CMS: the verbose text as received, or the standard text of a known number; CONNECT: the text after it. */
  text?: string;
}

const SIMPLE: Record<string, AtFinalKind> = {
  OK: "OK",
  ERROR: "ERROR",
  "NO CARRIER": "NO_CARRIER",
  BUSY: "BUSY",
  "NO ANSWER": "NO_ANSWER",
  "NO DIALTONE": "NO_DIALTONE",
  "NO DIAL TONE": "NO_DIALTONE",
};

function errorResult(kind: "CME_ERROR" | "CMS_ERROR", rest: string): FinalResult {
  const value = rest.trim();
  if (value === "") return { kind };
  const info = kind === "CME_ERROR" ? lookupCmeError(value) : lookupCmsError(value);
  const numeric = /^\d+$/.test(value);
  const out: FinalResult = { kind };
  if (info.number !== null) out.code = info.number;
  if (!numeric) out.text = value;
  else if (info.known) out.text = info.message;
  return out;
}

/**
 * Classifies one received line (without CR/LF) as a final result code, or returns null for anything else.
 * Examples: `"OK"` → `{kind:"OK"}`; `"+CME ERROR: 10"` → `{kind:"CME_ERROR", code:10, text:"SIM not inserted"}`;
 * `"+CME ERROR: SIM not inserted"` → same kind, code 10, that text; `"CONNECT 150000000"` → `{kind:"CONNECT", code:150000000}`.
 */
export function classifyFinal(line: string): FinalResult | null {
  if (typeof line !== "string") return null;
  const l = line.trim();
  if (l === "") return null;
  const simple = SIMPLE[l];
  if (simple) return { kind: simple };
  const m = /^\+(CME|CMS) ERROR:(.*)$/i.exec(l);
  if (m) return errorResult(m[1].toUpperCase() === "CME" ? "CME_ERROR" : "CMS_ERROR", m[2]);
  if (l === "CONNECT" || l.startsWith("CONNECT ")) {
    const rest = l.slice("CONNECT".length).trim();
    const out: FinalResult = { kind: "CONNECT" };
    if (rest !== "") {
      out.text = rest;
      if (/^\d{1,15}$/.test(rest)) out.code = Number.parseInt(rest, 10);
    }
    return out;
  }
  return null;
}

/** True for the SMS input prompt `> ` (CMGS/CMGW), which arrives without a trailing CRLF [T 23]. */
export function isPrompt(text: string): boolean {
  return typeof text === "string" && /^\s*> ?$/.test(text.replace(/\r|\n/g, ""));
}

/** True when the final result means success (`OK`, or `CONNECT` for dial commands). */
export function isSuccessFinal(kind: AtFinalKind): boolean {
  return kind === "OK" || kind === "CONNECT";
}

/**
 * A stable error code for a failed final result: CME/CMS via the tables (SIM_NOT_INSERTED, …), plain `ERROR`
 * → "AT_ERROR" (some failures stay plain ERROR even with CMEE=1, ec25.md §3.3), others by kind. Null for success.
 */
export function finalErrorCode(final: FinalResult): string | null {
  switch (final.kind) {
    case "OK":
    case "CONNECT":
      return null;
    case "ERROR":
      return "AT_ERROR";
    case "CME_ERROR":
      return lookupCmeError(final.code ?? final.text ?? "").code;
    case "CMS_ERROR":
      return lookupCmsError(final.code ?? final.text ?? "").code;
    default:
      return final.kind;
  }
}
