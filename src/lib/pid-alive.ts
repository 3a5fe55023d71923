/**
 * Whether a process runs: signal 0 reaches it, and it is not a zombie. An exited orphan stays a zombie where PID 1
 * does not reap (containers), and signal 0 still reaches a zombie, so the second check matters for detached children
 * (the data plane, 3proxy in process mode).
 */
import { readFileSync } from "node:fs";

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}
