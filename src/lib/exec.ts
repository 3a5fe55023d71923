/** Runs external programs (ip, qmicli, udhcpc, pg_dump) without a shell, with a timeout. */
import { AppError } from "./errors.ts";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Throw EXEC_FAILED on a non-zero exit (default true). */
  check?: boolean;
  /** Strings (passwords, tokens) replaced by *** in error messages and details. */
  secrets?: string[];
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return out;
}

/** Runs argv[0] with the remaining args. Never goes through a shell. */
export async function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const { timeoutMs = 30_000, input, env, cwd, check = true, secrets = [] } = opts;
  const shown = redact(argv.join(" "), secrets);
  let proc;
  try {
    proc = Bun.spawn(argv, {
      stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
      stdout: "pipe",
      stderr: "pipe",
      env: env ? { ...process.env, ...env } : process.env,
      cwd,
    });
  } catch (error) {
    throw new AppError("EXEC_NOT_FOUND", `cannot run ${argv[0]}: ${String(error)}`, { program: argv[0] }, { cause: error });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const outputs = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  clearTimeout(timer);
  // A grandchild that inherited the pipes (e.g. under `sh -c`) can keep them open after the child died:
  // give the output a moment, then stop waiting for it.
  const [stdout, stderr] = await Promise.race([
    outputs,
    Bun.sleep(timedOut ? 200 : 5_000).then(() => ["", ""] as [string, string]),
  ]);
  if (timedOut) {
    throw new AppError("EXEC_TIMEOUT", `${shown} timed out after ${timeoutMs} ms`, { program: argv[0] });
  }
  if (check && code !== 0) {
    const why = redact(stderr.trim() || stdout.trim(), secrets);
    throw new AppError("EXEC_FAILED", `${shown} exited ${code}: ${why}`, { program: argv[0], code, stderr: redact(stderr, secrets) });
  }
  return { code, stdout, stderr };
}

/** True when a program is on PATH (or is an existing absolute path). */
export function hasProgram(name: string): boolean {
  return Bun.which(name) !== null;
}
