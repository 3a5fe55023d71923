/**
 * Throw-away network namespaces for the net integration tests. Every name carries a unique test id; `destroy()`
 * removes them (and with them every veth inside), and an exit hook does it again if a test run dies half-way.
 */
import { spawnSync } from "bun";

export const isRoot = process.getuid?.() === 0;

export function uniqueId(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv synchronously (setup and assertions; nothing here is on a hot path). */
export function sh(argv: string[], opts: { check?: boolean; input?: string } = {}): ShResult {
  const p = spawnSync(argv, { stdin: opts.input === undefined ? "ignore" : Buffer.from(opts.input), stdout: "pipe", stderr: "pipe" });
  const res = { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  if ((opts.check ?? true) && res.code !== 0) throw new Error(`${argv.join(" ")} exited ${res.code}: ${res.stderr.trim()}`);
  return res;
}

/** `ip -n <ns> …` */
export const ipn = (ns: string, args: string, check = true) => sh(["ip", "-n", ns, ...args.split(/\s+/).filter(Boolean)], { check });
/** `ip netns exec <ns> …` */
export const inNs = (ns: string, argv: string[], check = true) => sh(["ip", "netns", "exec", ns, ...argv], { check });

export class NetnsSet {
  readonly names: string[] = [];
  private readonly onExit = () => this.destroy();

  constructor() {
    process.once("exit", this.onExit);
  }

  /** Creates a namespace with lo up. */
  add(name: string): string {
    sh(["ip", "netns", "add", name]);
    this.names.push(name);
    ipn(name, "link set lo up");
    return name;
  }

  /** A veth pair with one end in each namespace (created inside them, so nothing touches the root namespace). */
  veth(nsA: string, nameA: string, nsB: string, nameB: string): void {
    sh(["ip", "-n", nsA, "link", "add", nameA, "type", "veth", "peer", "name", nameB, "netns", nsB]);
    ipn(nsA, `link set ${nameA} up`);
    ipn(nsB, `link set ${nameB} up`);
  }

  destroy(): void {
    for (const name of this.names.splice(0)) sh(["ip", "netns", "del", name], { check: false });
    process.off("exit", this.onExit);
  }
}
