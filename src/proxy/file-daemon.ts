/**
 * What `lteproxy proxy` and `lteproxy dns-relay` share: both are daemons that read one JSON file the control plane
 * writes atomically, take `--config FILE` plus numeric options, reload on inotify (the rename) and on SIGHUP, and stop
 * on SIGTERM/SIGINT.
 */
import type { Logger } from "../lib/logger.ts";
import { watchProxyConfigFile } from "./engine/config-file.ts";

export interface NumberFlag {
  default: number;
  min: number;
  max: number;
  /** The error when the value is not a whole number in [min, max]. */
  error: string;
}

export interface FileDaemonArgs<N extends string> {
  config: string;
  help: boolean;
  /** Each numeric option by its flag name without dashes ("drain-ms"). */
  numbers: Record<N, number>;
}

/** `--config FILE`, `-h/--help` and the given `--name N` options, each also as `--name=N`. A string is the usage error. */
export function parseFileDaemonArgs<N extends string>(
  argv: string[],
  spec: { config: string; numbers: Record<N, NumberFlag> },
): FileDaemonArgs<N> | string {
  const numbers = Object.fromEntries(Object.entries<NumberFlag>(spec.numbers).map(([k, f]) => [k, f.default])) as Record<N, number>;
  const out: FileDaemonArgs<N> = { config: spec.config, help: false, numbers };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (a === "-h" || a === "--help") out.help = true;
    else if (name === "--config") {
      const v = value();
      if (!v) return "--config needs a file";
      out.config = v;
    } else if (name.startsWith("--") && Object.hasOwn(spec.numbers, name.slice(2))) {
      const key = name.slice(2) as N;
      const f = spec.numbers[key];
      const n = Number(value());
      if (!Number.isInteger(n) || n < f.min || n > f.max) return f.error;
      out.numbers[key] = n;
    } else return `unknown argument: ${a}`;
  }
  return out;
}

/**
 * Calls `reload` when the file is replaced and on SIGHUP, and on SIGTERM/SIGINT stops watching, awaits `stop` and
 * resolves with exit code 0.
 */
export function runFileDaemon(opts: {
  path: string;
  log: Logger;
  reload(why: "inotify" | "SIGHUP"): void;
  stop(signal: string): Promise<void>;
}): Promise<number> {
  const unwatch = watchProxyConfigFile(opts.path, () => opts.reload("inotify"));
  const onHup = () => opts.reload("SIGHUP");
  process.on("SIGHUP", onHup);
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      process.off("SIGHUP", onHup);
      unwatch();
      void opts.stop(signal).then(() => resolve(0));
    };
    const onTerm = () => shutdown("SIGTERM");
    const onInt = () => shutdown("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  });
}
