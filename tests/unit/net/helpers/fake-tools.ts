/**
 * Fakes for the data-connection driver tests: a qmicli stand-in (a real executable that prints the reference's
 * exact output from files), a scripted AtChannel, and an ip runner that records argv.
 */
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecOptions, ExecResult } from "../../../../src/lib/exec.ts";
import type { AtChannel, AtResponse } from "../../../../src/modem/at/types.ts";

export const FIXTURES = join(import.meta.dir, "..", "fixtures");

/**
 * qmicli stand-in. For the operation `--<op>[=…]` it prints `<dir>/<op>.out` to stdout and `<dir>/<op>.err` to stderr
 * and exits with `<dir>/<op>.rc` (default 0). Every call's arguments are appended to `<dir>/calls.log`.
 */
const FAKE_QMICLI = `#!/bin/sh
D="$(dirname "$0")"
printf '%s\\n' "$*" >> "$D/calls.log"
op=""
for a in "$@"; do
  case "$a" in
    -d|-p|--client-no-release-cid|--client-cid=*|/*) ;;
    --*) op="\${a#--}"; op="\${op%%=*}"; break ;;
  esac
done
[ -f "$D/$op.out" ] && cat "$D/$op.out"
[ -f "$D/$op.err" ] && cat "$D/$op.err" >&2
[ -f "$D/$op.rc" ] && exit "$(cat "$D/$op.rc")"
exit 0
`;

export class FakeQmicli {
  readonly dir: string;
  readonly path: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "lteproxy-fake-qmicli-"));
    this.path = join(this.dir, "qmicli");
    writeFileSync(this.path, FAKE_QMICLI);
    chmodSync(this.path, 0o755);
    // The reference's outputs for a healthy modem.
    this.respond("set-expected-data-format", { outFixture: "qmicli-set-expected-data-format.out" });
    this.respond("wds-start-network", { outFixture: "qmicli-start-network.out" });
    this.respond("wds-get-current-settings", { outFixture: "qmicli-current-settings.out" });
    this.respond("wds-get-packet-service-status", { outFixture: "qmicli-status-connected.out" });
    this.respond("wds-stop-network", { outFixture: "qmicli-stop-network.out" });
    this.respond("wds-noop", {});
  }

  /** Sets what one operation prints and returns. */
  respond(op: string, r: { outFixture?: string; out?: string; errFixture?: string; err?: string; rc?: number }): void {
    for (const ext of ["out", "err", "rc"]) rmSync(join(this.dir, `${op}.${ext}`), { force: true });
    if (r.outFixture) copyFileSync(join(FIXTURES, r.outFixture), join(this.dir, `${op}.out`));
    if (r.out !== undefined) writeFileSync(join(this.dir, `${op}.out`), r.out);
    if (r.errFixture) copyFileSync(join(FIXTURES, r.errFixture), join(this.dir, `${op}.err`));
    if (r.err !== undefined) writeFileSync(join(this.dir, `${op}.err`), r.err);
    if (r.rc !== undefined) writeFileSync(join(this.dir, `${op}.rc`), String(r.rc));
  }

  calls(): string[] {
    try {
      return readFileSync(join(this.dir, "calls.log"), "utf8").trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Records every ip argv; answers `addr show dev X` with the addresses it was told the interface has. */
export class FakeIp {
  readonly calls: string[][] = [];
  addresses: Array<{ local: string; prefixlen: number }> = [];

  run = async (argv: string[], _opts: ExecOptions = {}): Promise<ExecResult> => {
    this.calls.push(argv);
    const line = argv.join(" ");
    if (line.includes("addr show dev")) {
      const ifname = argv[argv.length - 1];
      const info = this.addresses.map((a) => ({ family: "inet", local: a.local, prefixlen: a.prefixlen }));
      return { code: 0, stdout: JSON.stringify([{ ifname, flags: ["UP"], addr_info: info }]), stderr: "" };
    }
    return { code: 0, stdout: "", stderr: "" };
  };

  lines(): string[] {
    return this.calls.map((c) => c.join(" "));
  }
}

type Reply = { lines?: string[]; final?: string } | ((command: string) => { lines?: string[]; final?: string });

/** An AtChannel that answers from a table (command -> reply), recording what was sent. */
export class ScriptedAt implements AtChannel {
  readonly sent: string[] = [];
  constructor(public replies: Record<string, Reply>) {}

  async send(command: string): Promise<AtResponse> {
    this.sent.push(command);
    const entry = this.replies[command];
    const r = typeof entry === "function" ? entry(command) : (entry ?? { final: "ERROR" });
    const final = r.final ?? "OK";
    const kind = final === "OK" ? "OK" : final.startsWith("+CME ERROR") ? "CME_ERROR" : "ERROR";
    return { command, lines: r.lines ?? [], final, kind, ok: final === "OK", durationMs: 1 };
  }
  onUrc(): () => void { return () => {}; }
  onClose(): () => void { return () => {}; }
  async close(): Promise<void> {}
}
