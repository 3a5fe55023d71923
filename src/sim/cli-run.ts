/**
 * `lteproxy sim [--modems N] [--device-dir D] [--sysfs-root S] [--net none|loopback|lab] [--time-scale X] [--seed N]`:
 * runs a lab in the foreground until Ctrl-C / SIGTERM, then removes everything it made.
 */
import { parseArgs } from "node:util";
import { AppError } from "../lib/errors.ts";
import { startSimLab, type SimLab } from "./lab.ts";
import { createLabNetwork } from "./net/index.ts";
import type { LabNetMode, LabNetwork } from "./net/types.ts";
import { newSimLabId, registryDir, removeLabFiles } from "./registry.ts";
import path from "node:path";

export const RUN_HELP = `Usage: lteproxy sim [options]

Runs a lab of simulated Quectel EC25-EUX modems until Ctrl-C, then removes everything it made.

Options:
  --modems N          number of modems (default 30)
  --device-dir D      udev-style slot links: D/<slot>/{at,modem,qmi} (default <run dir>/devices)
  --sysfs-root S      sysfs-shaped tree (default <run dir>/sys)
  --dev-root R        ttyUSBn / cdc-wdmN nodes (default <run dir>/dev)
  --net MODE          none (default; addresses are made up, no data plane), loopback, lab (root)
  --time-scale X      multiply every modem timing (default 1 = realistic; 0.05 for a quick demo)
  --seed N            identities and drift (default 1)
  --ports-per-hub K   modems per USB hub (default 10)
  --ctl-port P        also serve the control API on 127.0.0.1:P
  -h, --help          this text

Subcommands: lteproxy sim ctl …, lteproxy sim qmicli …, lteproxy sim cleanup (each with --help).
`;

function numberOpt(v: string | undefined, name: string, def: number, lo: number, hi: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new AppError("SIM_BAD_ARGS", `--${name} must be a number in [${lo}, ${hi}], got ${v}`);
  return n;
}

export async function runCommand(argv: readonly string[], out = process.stdout): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      modems: { type: "string" }, "device-dir": { type: "string" }, "sysfs-root": { type: "string" },
      "dev-root": { type: "string" }, net: { type: "string" }, "time-scale": { type: "string" }, seed: { type: "string" },
      "ports-per-hub": { type: "string" }, "ctl-port": { type: "string" }, help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) { out.write(RUN_HELP); return 0; }
  const mode = (values.net ?? "none") as LabNetMode;
  if (!["none", "loopback", "lab"].includes(mode)) throw new AppError("SIM_BAD_ARGS", `--net must be none, loopback or lab, got ${mode}`);
  const labId = newSimLabId();
  // --net none: no network object; the modems make up carrier-like addresses so AT/QMI answers stay realistic.
  let net: LabNetwork | undefined;
  if (mode !== "none") net = createLabNetwork(mode, { labId, runDir: path.join(registryDir(), labId) });
  let lab: SimLab;
  try {
    lab = await startSimLab({
      labId, net,
      modems: numberOpt(values.modems, "modems", 30, 1, 1000),
      deviceDir: values["device-dir"], sysfsRoot: values["sysfs-root"], devRoot: values["dev-root"],
      timeScale: numberOpt(values["time-scale"], "time-scale", 1, 0.0001, 1000),
      seed: numberOpt(values.seed, "seed", 1, 0, 2 ** 32 - 1),
      portsPerHub: numberOpt(values["ports-per-hub"], "ports-per-hub", 10, 1, 127),
      control: { socket: true, port: values["ctl-port"] === undefined ? undefined : numberOpt(values["ctl-port"], "ctl-port", 0, 0, 65535) },
    });
  } catch (error) {
    await net?.destroy().catch(() => {});
    throw error;
  }
  const i = lab.info;
  out.write(`lab ${i.labId}: ${i.modems} simulated EC25 modems (time scale ${i.timeScale}, seed ${i.seed})\n` +
    `  device dir   ${i.deviceDir}\n  sysfs root   ${i.sysfsRoot}\n  dev root     ${i.devRoot}\n` +
    `  control      ${i.ctlSocket ?? "-"}${i.ctlPort ? ` and http://127.0.0.1:${i.ctlPort}` : ""}  (lteproxy sim ctl list)\n` +
    `  qmicli       ${i.qmicli}\n  net          ${mode}${i.net?.echoUrl ? `  echo ${i.net.echoUrl}` : ""}${i.net?.boxNs ? `  box ns ${i.net.boxNs}` : ""}\n` +
    "Ctrl-C stops the lab and removes everything it made.\n");
  // Last resort on a hard exit: the files at least (the lab network has its own exit hooks).
  const onExit = () => removeLabFiles(i);
  process.once("exit", onExit);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve(sig));
  });
  out.write(`${signal}: stopping lab ${i.labId}…\n`);
  await lab.stop();
  process.off("exit", onExit);
  out.write("lab removed\n");
  return 0;
}
