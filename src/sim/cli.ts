/**
 * `lteproxy sim …`: the lab of simulated EC25 modems (wired into src/main.ts by the lead).
 *   lteproxy sim [options]        run a lab (cli-run.ts)
 *   lteproxy sim ctl …            fault injection / list (ctl/client.ts)
 *   lteproxy sim qmicli …         the lab's qmicli (qmi/client.ts)
 *   lteproxy sim cleanup [--all]  remove leftovers (cli-cleanup.ts)
 */
import { AppError } from "../lib/errors.ts";

export async function simCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case "ctl":
        return await (await import("./ctl/client.ts")).ctlCommand(rest);
      case "qmicli":
        // Lazy import: qmicli runs once per data-connection step and must start fast.
        return await (await import("./qmi/client.ts")).qmicliCommand(rest);
      case "cleanup":
        return await (await import("./cli-cleanup.ts")).cleanupCommand(rest);
      default:
        return await (await import("./cli-run.ts")).runCommand(argv);
    }
  } catch (error) {
    const code = error instanceof AppError ? error.code : (error as { code?: string }).code ?? "SIM_FAILED";
    process.stderr.write(`error: ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
    return code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "SIM_BAD_ARGS" ? 2 : 1;
  }
}
