/**
 * iproute2 behind an injectable runner, optionally inside a network namespace (`ip -n <ns> …`), so unit tests use a
 * fake and integration tests and the lab target a namespace they created.
 */
import { AppError } from "../lib/errors.ts";
import { type ExecOptions, type ExecResult, run } from "../lib/exec.ts";

/** The signature of src/lib/exec.ts `run`; tests pass a fake. */
export type CommandRunner = (argv: string[], opts?: ExecOptions) => Promise<ExecResult>;

export interface IpCommandOptions {
  run?: CommandRunner;
  /** Named network namespace (`ip netns`); empty or undefined = the current one. */
  netns?: string;
  ipPath?: string;
  timeoutMs?: number;
}

export interface BatchResult {
  /** Lines that failed (0-based index into the input) with ip's message. */
  failures: Array<{ index: number; line: string; message: string }>;
}

/** Thin wrapper around the ip binary. */
export class IpCommand {
  readonly netns?: string;
  private readonly runner: CommandRunner;
  private readonly ipPath: string;
  private readonly timeoutMs: number;

  constructor({ run: runner = run, netns, ipPath = "ip", timeoutMs = 15_000 }: IpCommandOptions = {}) {
    this.runner = runner;
    this.netns = netns || undefined;
    this.ipPath = ipPath;
    this.timeoutMs = timeoutMs;
  }

  /** `ip [-n ns] <args>`; throws EXEC_FAILED (from the runner) on a non-zero exit unless check is false. */
  async exec(args: string[], opts: { check?: boolean; input?: string } = {}): Promise<ExecResult> {
    const ns = this.netns ? ["-n", this.netns] : [];
    return this.runner([this.ipPath, ...ns, ...args], { timeoutMs: this.timeoutMs, check: opts.check ?? true, input: opts.input });
  }

  /** Runs a read-only query and returns its stdout (JSON when args include -json). */
  async query(args: string[]): Promise<string> {
    return (await this.exec(args)).stdout;
  }

  /**
   * Runs many changes in one process (`ip -force -batch -`): 100 modems are ~300 lines, one fork instead of 300.
   * -force keeps going after a failed line; ip reports each as "<message>\nCommand failed -:<line>" on stderr.
   */
  async batch(lines: string[]): Promise<BatchResult> {
    if (lines.length === 0) return { failures: [] };
    for (const line of lines) {
      // Batch lines are split by ip like a shell would; nothing we build contains these, so anything that does is a bug.
      if (/[\n\r\\#"';]/.test(line)) throw new AppError("IP_BATCH_INVALID", `refusing unsafe ip batch line: ${JSON.stringify(line)}`);
    }
    const res = await this.exec(["-force", "-batch", "-"], { check: false, input: `${lines.join("\n")}\n` });
    const failures = parseBatchFailures(res.stderr, lines);
    if (res.code !== 0 && failures.length === 0) {
      throw new AppError("IP_BATCH_FAILED", `ip -batch exited ${res.code}: ${res.stderr.trim()}`, { stderr: res.stderr });
    }
    return { failures };
  }
}

/** Maps ip -force -batch stderr to the failed input lines. Pure; exported for tests. */
export function parseBatchFailures(stderr: string, lines: string[]): BatchResult["failures"] {
  const failures: BatchResult["failures"] = [];
  let pending: string[] = [];
  for (const raw of stderr.split("\n")) {
    const text = raw.trim();
    if (!text) continue;
    const m = /^Command failed (?:-|\S+):(\d+)$/.exec(text);
    if (!m) { pending.push(text); continue; }
    const index = Number(m[1]) - 1;
    failures.push({ index, line: lines[index] ?? "", message: pending.join("; ") || "failed" });
    pending = [];
  }
  return failures;
}
