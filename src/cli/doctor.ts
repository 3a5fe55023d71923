/**
 * `lteproxy doctor`: checks the box and prints a table of ok/warn/fail; exits non-zero when anything fails.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";
import { ping } from "../db/client.ts";
import { migrationStatus } from "../db/migrate.ts";

export type CheckLevel = "ok" | "warn" | "fail";

export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
}

export async function checkDatabase(sql: Sql | undefined, openError?: string): Promise<CheckResult[]> {
  if (!sql) return [{ name: "database reachable", level: "fail", detail: openError ?? "not configured" }];
  if (!(await ping(sql, 5000))) return [{ name: "database reachable", level: "fail", detail: "no answer within 5 s" }];
  const out: CheckResult[] = [{ name: "database reachable", level: "ok", detail: "select 1 answered" }];
  const s = await migrationStatus(sql);
  if (s.modified.length) out.push({ name: "migrations current", level: "fail", detail: `edited after apply: ${s.modified.map((m) => m.name).join(", ")}` });
  else if (s.unknown.length) out.push({ name: "migrations current", level: "fail", detail: `database is newer than this binary (${s.unknown.join(", ")})` });
  else if (s.pending.length) out.push({ name: "migrations current", level: "fail", detail: `${s.pending.length} pending: run 'lteproxy migrate'` });
  else out.push({ name: "migrations current", level: "ok", detail: `${s.applied.length} applied` });
  return out;
}

/** Tools the data plane needs; missing ones fail only when the configured driver needs them. */
export function checkTools(config: Config): CheckResult[] {
  const tools: Array<[string, boolean]> = [
    ["ip", true],
    [config.net.qmicli, config.net.driver === "qmi"],
    [config.net.udhcpc, config.net.driver === "at-rmnet"],
  ];
  return tools.map(([tool, required]) => {
    const path = tool.includes("/") ? (existsSync(tool) ? tool : null) : Bun.which(tool);
    if (path) return { name: `tool ${tool}`, level: "ok" as const, detail: path };
    return { name: `tool ${tool}`, level: required ? ("fail" as const) : ("warn" as const), detail: "not found on PATH" };
  });
}

export function checkDeviceDir(dir: string): CheckResult {
  try {
    if (!statSync(dir).isDirectory()) return { name: "device dir", level: "fail", detail: `${dir} is not a directory` };
    accessSync(dir, constants.R_OK | constants.X_OK);
    const slots = readdirSync(dir).length;
    return { name: "device dir", level: slots ? "ok" : "warn", detail: `${dir}: ${slots} slot(s)` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { name: "device dir", level: "warn", detail: `${dir} does not exist (no modem plugged in, or udev rules missing)` };
    return { name: "device dir", level: "fail", detail: `${dir}: ${code ?? String(error)}` };
  }
}

export function formatChecks(results: CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 5);
  const lines = results.map((r) => `${r.level.toUpperCase().padEnd(4)}  ${r.name.padEnd(w)}  ${r.detail}`);
  return [`${"LVL".padEnd(4)}  ${"CHECK".padEnd(w)}  DETAIL`, ...lines].join("\n");
}
