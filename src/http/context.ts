/**
 * What the app (src/app.ts) hands the HTTP layer. Everything optional has a working default: missing control-plane
 * parts make their routes answer 503 NOT_AVAILABLE while the pages still render their buttons.
 */
import type { Sql } from "../db/client.ts";
import type { Config } from "../config.ts";
import type { EventStream } from "../events/event-stream.ts";
import type { MetricsRegistry } from "./metrics-registry.ts";
import type { SinrScale } from "../modem/parsers/serving-cell.ts";

export type Role = "admin" | "technician" | "viewer";

/** Who asked: written to audit_log and passed to the control plane. */
export interface Actor {
  userId: number | null;
  username: string;
  role: Role;
  /** "session" (panel), "api_key" (automation), "link" (secure rotation link). */
  via: "session" | "api_key" | "link";
  ip: string | null;
}

export type ModemAction = "rotate" | "reconnect" | "airplane" | "reboot" | "enable-proxy" | "disable-proxy";
export const MODEM_ACTIONS: readonly ModemAction[] = ["rotate", "reconnect", "airplane", "reboot", "enable-proxy", "disable-proxy"];

export interface ActionOptions {
  /** Rotation method; the modem's configured method when absent. */
  method?: "data" | "airplane" | "reboot";
  /** rotations.trigger: manual (panel), api, link. */
  trigger?: "manual" | "api" | "link";
}

export interface AtResult {
  ok: boolean;
  lines: string[];
  /** The final result code line ("OK", "ERROR", "+CME ERROR: 10"). */
  final: string;
}

export interface JobStatus {
  jobId: string;
  modemId: number | null;
  action: string;
  status: "queued" | "running" | "done";
  result: string | null;
  detail?: Record<string, unknown>;
}

/**
 * The control plane's modem operations. Actions travel through the event stream to the node that owns the modem,
 * so any node's panel can serve them. Errors: throw AppError with codes such as MODEM_NOT_FOUND, MODEM_BUSY,
 * AT_REJECTED, NOT_AVAILABLE; the HTTP layer maps them to statuses.
 */
export interface ModemActions {
  request(modemId: number, action: ModemAction, actor: Actor, opts?: ActionOptions): Promise<{ jobId: string }>;
  /**
   * One AT command on the modem's console. The modem layer enforces the allow-list and writes the one audit row
   * of every attempt (`modem.console`, run or refused); the HTTP layer audits only what it refuses before this.
   */
  at(modemId: number, command: string, actor: Actor): Promise<AtResult>;
  /** Optional: job status beyond what rotations/modem_events tell. */
  job?(jobId: string): Promise<JobStatus | null>;
  /** Optional: regenerates the secure rotation link token; the HTTP layer's DB default is used when absent. */
  rotationToken?(modemId: number, actor: Actor): Promise<string>;
  sms?: {
    send(modemId: number, to: string, text: string, actor: Actor): Promise<{ jobId?: string; ok: boolean; error?: string }>;
  };
  ussd?(modemId: number, code: string, actor: Actor): Promise<{ ok: boolean; response: string }>;
}

export interface JobInfo {
  id: string;
  description: string;
  schedule: string;
  nextRunAt: Date | null;
  running: boolean;
  lastRun: { startedAt: Date; durationMs: number | null; result: string | null; error: string | null } | null;
}

/** The named croner jobs (src/jobs), listed and runnable from the panel. */
export interface JobsView {
  list(): Promise<JobInfo[]> | JobInfo[];
  runNow(id: string, actor: Actor): Promise<void>;
}

/** A named health condition ("Health is named", STYLE.md) the system page shows. */
export interface HealthCondition {
  code: string;
  severity: "info" | "warning" | "critical";
  text: string;
  since?: Date;
}

export interface HttpContext {
  sql: Sql;
  config: Config;
  nodeId: string;
  events: EventStream;
  /** False while PostgreSQL is unreachable: pages show the read-only banner and writes answer 503. */
  db: { healthy(): boolean };
  actions?: ModemActions;
  jobs?: JobsView;
  /** Registry the app's subsystems register their metrics in; a private one is made when absent. */
  metrics?: MetricsRegistry;
  /** Named conditions of the data plane and the control plane, for the system page. */
  conditions?: () => HealthCondition[] | Promise<HealthCondition[]>;
  /**
   * The client address. Default: the socket peer from Bun's server. In-process tests (app.handle) have no socket,
   * so they pass one; never trust X-Forwarded-For by default (a LAN client could forge it).
   */
  clientIp?: (request: Request) => string | null;
  /** How the raw +QENG SINR is read (ec25.md §4.3: firmware-dependent); default "db". */
  sinrScale?: SinrScale;
  /** Clock for throttling windows and token lifetimes (tests). */
  now?: () => number;
}
