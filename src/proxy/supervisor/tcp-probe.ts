/**
 * Is anything accepting on host:port? The 3proxy backend asks after every start and reload, because a reload that
 * fails on any config line leaves 3proxy alive with no listeners and exit code 0 (3proxy.md §3); doctor asks too.
 */
import { connect } from "node:net";

/** One TCP connect; true when it was accepted within timeoutMs. Never throws. */
export function probeTcp(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on("error", () => undefined);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/**
 * Retries probeTcp until it succeeds or `withinMs` passed. The default ~1.5 s covers 3proxy's listen gap during a
 * reload (~0.8 s measured after a setuid reload, 3proxy.md §3) without calling a healthy port dead.
 */
export async function waitForPort(host: string, port: number, opts: { withinMs?: number; everyMs?: number } = {}): Promise<boolean> {
  const { withinMs = 1500, everyMs = 100 } = opts;
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await probeTcp(host, port, Math.min(500, Math.max(50, deadline - Date.now())))) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(everyMs);
  }
}

/** Where to connect to reach a port listening on `listen`: a wildcard listener is probed over loopback. */
export function probeHostFor(listen: string | undefined): string {
  if (!listen || listen === "0.0.0.0") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}
