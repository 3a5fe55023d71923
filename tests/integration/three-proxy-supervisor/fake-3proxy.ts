/**
 * A stand-in for the 3proxy binary with the two behaviours the backend must handle (3proxy.md §3): it listens on the
 * `auto -p<port> -i<addr>` of the config it is given and re-reads it on SIGUSR1; and when the file `break-reload`
 * exists in $FAKE_SYSTEMCTL_DIR, a reload closes every listener while the process stays alive, as a real 3proxy does
 * after a reload that failed on a config line.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const cfg = process.argv[2]!;
let listener: { stop(closeActive?: boolean): void } | undefined;

function listen(): void {
  const m = /^auto -p(\d+) -i(\S+)/m.exec(readFileSync(cfg, "utf8"));
  if (!m) return;
  listener = Bun.listen({ hostname: m[2]!, port: Number(m[1]), socket: { open(s) { s.end(); }, data() {} } });
}

listen();
process.on("SIGUSR1", () => {
  listener?.stop(true);
  listener = undefined;
  if (!existsSync(join(process.env.FAKE_SYSTEMCTL_DIR ?? "/nonexistent", "break-reload"))) listen();
});
process.on("SIGTERM", () => process.exit(0));
setInterval(() => {}, 1 << 30);
