/** A small argv parser: --flag value, --flag=value, boolean --flag, and positionals. */
import { AppError } from "../lib/errors.ts";

export interface ParsedArgs {
  flags: Record<string, string | boolean>;
  positionals: string[];
}

export interface ArgSpec {
  /** Flags that take a value. */
  values?: string[];
  /** Flags that are booleans. */
  booleans?: string[];
}

export function parseArgs(argv: string[], spec: ArgSpec = {}): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const booleans = new Set([...(spec.booleans ?? []), "help"]);
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (booleans.has(name)) {
      flags[name] = eq === -1 ? true : arg.slice(eq + 1) !== "false";
    } else if (values.has(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new AppError("CLI_USAGE", `--${name} needs a value`);
      flags[name] = value;
    } else {
      throw new AppError("CLI_USAGE", `unknown option --${name}`);
    }
  }
  return { flags, positionals };
}

/** An integer flag with bounds, or the default. */
export function intFlag(args: ParsedArgs, name: string, dflt: number, min: number, max: number): number {
  const raw = args.flags[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError("CLI_USAGE", `--${name} = ${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

export function strFlag(args: ParsedArgs, name: string): string | undefined {
  const raw = args.flags[name];
  return typeof raw === "string" ? raw : undefined;
}
