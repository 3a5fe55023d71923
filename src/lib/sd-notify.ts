/**
 * systemd notifications for Type=notify units (lteproxy.service): READY=1 once serving, WATCHDOG=1 at half the
 * WatchdogSec interval. Uses systemd-notify (the unit sets NotifyAccess=all so the helper's messages count).
 * Outside systemd (no NOTIFY_SOCKET) both are no-ops.
 */
function notify(...args: string[]): void {
  if (!process.env.NOTIFY_SOCKET || !Bun.which("systemd-notify")) return;
  try {
    Bun.spawn(["systemd-notify", ...args], { stdout: "ignore", stderr: "ignore" });
  } catch {
    // a missed notification is retried by the next keepalive; readiness failure shows as a start timeout
  }
}

export function notifyReady(): void {
  notify("--ready", `--pid=${process.pid}`);
}

/** Starts keepalives when systemd asked for them (WATCHDOG_USEC); returns a stop function. */
export function startWatchdog(): () => void {
  const usec = Number(process.env.WATCHDOG_USEC ?? 0);
  if (!process.env.NOTIFY_SOCKET || !usec) return () => undefined;
  const timer = setInterval(() => notify(`--pid=${process.pid}`, "WATCHDOG=1"), Math.max(1000, usec / 2000));
  return () => clearInterval(timer);
}
