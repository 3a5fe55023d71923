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
}

/** Runs argv[0] with the remaining args. Never goes through a shell. */
export async function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const { timeoutMs = 30_000, input, env, cwd, check = true } = opts;
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
    throw new AppError("EXEC_NOT_FOUND", `cannot run ${argv[0]}: ${String(error)}`, { argv }, { cause: error });
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  if (proc.signalCode === "SIGKILL") {
    throw new AppError("EXEC_TIMEOUT", `${argv.join(" ")} timed out after ${timeoutMs} ms`, { argv });
  }
  if (check && code !== 0) {
    throw new AppError("EXEC_FAILED", `${argv.join(" ")} exited ${code}: ${stderr.trim() || stdout.trim()}`, {
      argv, code, stderr,
    });
  }
  return { code, stdout, stderr };
}

/** True when a program is on PATH (or is an existing absolute path). */
export function hasProgram(name: string): boolean {
  return Bun.which(name) !== null;
}
