/**
 * Runs the carrier's dnsmasq inside the carrier namespace and reloads its DHCP reservations.
 * dnsmasq re-reads the hosts file on SIGHUP and logs "read <file>" when done; sessionUp waits for that line so the
 * box's DHCP DISCOVER that follows is answered with the new reservation, not the old one.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Subprocess } from "bun";
import { AppError } from "../../lib/errors.ts";

export interface DnsmasqProcess {
  proc: Subprocess;
  /** Sends SIGHUP and resolves once dnsmasq logged that it re-read `hostsPath`. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = statSync(path).size;
    if (size <= offset) return "";
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function waitForLog(path: string, offset: number, needle: string, timeoutMs: number, proc: Subprocess): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (readFrom(path, offset).includes(needle)) return true;
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    await Bun.sleep(5);
  }
  return false;
}

export async function startDnsmasq(o: {
  ns: string;
  dnsmasq: string;
  confPath: string;
  logPath: string;
  hostsPath: string;
  /** dnsmasq's stderr (config errors before it opens its log). */
  stderrPath: string;
  timeoutMs?: number;
}): Promise<DnsmasqProcess> {
  const offset = fileSize(o.logPath);
  const proc = Bun.spawn(["ip", "netns", "exec", o.ns, o.dnsmasq, "-k", `--conf-file=${o.confPath}`], {
    stdin: "ignore", stdout: "ignore", stderr: Bun.file(o.stderrPath),
  });
  // Not "started, version": the hosts file is read after that line, and a SIGHUP (the first sessionUp) must not
  // overtake the startup read.
  const hostsNeedle = `read ${o.hostsPath}`;
  const started = await waitForLog(o.logPath, offset, hostsNeedle, o.timeoutMs ?? 5000, proc);
  if (!started) {
    proc.kill("SIGKILL");
    await proc.exited;
    const stderr = await Bun.file(o.stderrPath).text().catch(() => "");
    throw new AppError("LAB_DNSMASQ_FAILED", `dnsmasq did not start in ${o.ns}: ${stderr.trim() || "no log line"}`, { ns: o.ns });
  }
  return {
    proc,
    async reload() {
      const at = fileSize(o.logPath);
      proc.kill("SIGHUP");
      if (!(await waitForLog(o.logPath, at, hostsNeedle, 5000, proc))) {
        throw new AppError("LAB_DHCP_RELOAD_TIMEOUT", "dnsmasq did not re-read the DHCP reservations within 5 s", { ns: o.ns });
      }
    },
    stop: () => stopProcess(proc),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(proc: Subprocess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}
