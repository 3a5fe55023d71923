/** `lteproxy sim cleanup [--all]`: removes what dead labs left (files, sockets, namespaces); --all stops live ones too. */
import { parseArgs } from "node:util";
import { cleanStaleLabs } from "./lab.ts";
import { cleanupLabs } from "./net/index.ts";
import { isAlive, readRecords, removeLabFiles } from "./registry.ts";

export const CLEANUP_HELP = `Usage: lteproxy sim cleanup [--all]

Removes everything that labs whose process died left behind: device dirs, sysfs trees, sockets, run dirs and lab
network namespaces. With --all, running labs are asked to stop (SIGTERM) and removed as well.
`;

export async function cleanupCommand(argv: readonly string[], out = process.stdout): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { all: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) { out.write(CLEANUP_HELP); return 0; }
  const removed: string[] = [];
  if (values.all) {
    for (const rec of readRecords().filter((r) => isAlive(r) && r.pid !== process.pid)) {
      process.kill(rec.pid, "SIGTERM");
      const until = Date.now() + 10_000;
      while (isAlive(rec) && Date.now() < until) await Bun.sleep(100);
      if (isAlive(rec)) process.kill(rec.pid, "SIGKILL");
      removeLabFiles(rec);
      removed.push(rec.labId);
    }
  }
  for (const rec of cleanStaleLabs()) removed.push(rec.labId);
  let netReport = { removed: [] as string[], skipped: [] as string[] };
  try {
    // Never forced: a lab network whose owner still runs belongs to someone else (another test run, another lab);
    // the sim labs stopped above destroyed their own networks.
    netReport = await cleanupLabs("", { force: false });
  } catch (error) {
    out.write(`lab network cleanup failed: ${String(error)}\n`);
  }
  const live = readRecords().filter(isAlive).map((r) => r.labId);
  out.write(`removed labs: ${removed.length ? removed.join(", ") : "none"}\n`);
  out.write(`removed lab networks: ${netReport.removed.length ? netReport.removed.join(", ") : "none"}\n`);
  if (live.length) out.write(`still running (use --all to stop them): ${live.join(", ")}\n`);
  return 0;
}
