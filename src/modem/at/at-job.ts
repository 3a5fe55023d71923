/**
 * One queued command of the AT engine and the per-line checks that only concern it (echo recognition).
 */
import type { AppError } from "../../lib/errors.ts";
import { metricsKey } from "./command.ts";
import type { AtResponse } from "./types.ts";

export interface Job {
  command: string;
  /** Metrics key ("AT+CSQ"). */
  key: string;
  body?: string;
  timeoutMs: number;
  /** Resync probes: not counted in per-verb metrics, do not trigger another resync. */
  internal: boolean;
  resolve: (response: AtResponse) => void;
  reject: (error: AppError) => void;
  lines: string[];
  answered: Set<string>;
  echoSeen: boolean;
  /** The command came back more than once: the signature of a port that only reflects input. */
  doubleEcho: boolean;
  phase: "prompt" | "response";
  /** With echo on the modem also reflects the message body; these are its lines, to be skipped. */
  bodyEcho: string[];
  startedAt: number;
  timer?: ReturnType<typeof setTimeout>;
  settled?: () => void;
  done: boolean;
}

export function newJob(command: string, timeoutMs: number, internal: boolean, resolve: Job["resolve"],
  reject: Job["reject"], body?: string): Job {
  return {
    command, key: metricsKey(command), body, timeoutMs, internal, resolve, reject, lines: [], answered: new Set(),
    echoSeen: false, doubleEcho: false, bodyEcho: [], phase: body === undefined ? "response" : "prompt",
    startedAt: 0, done: false,
  };
}

/** The framer's cleaning (controls removed, trimmed), for comparing with echoed text. */
export function cleanLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, "").trim();
}

/**
 * Echo of `command`: the line as typed (case-insensitive), possibly with garbage stuck to either end
 * (ec25.md §3.4.2). Answers never start with the command text, and a URC ending in it would start with `+`.
 */
export function isEcho(line: string, command: string): boolean {
  const l = line.toUpperCase();
  const c = command.toUpperCase();
  return l.startsWith(c) || (l.endsWith(c) && !l.startsWith("+"));
}
