/**
 * The lab network: what the simulated modems' data calls drive (see types.ts for the contract).
 *
 *   const net = createLabNetwork("lab", { labId: newLabId("t"), runDir: "/run/lteproxy-sim" });
 *   await net.setup(30);                       // namespaces, 30 modem links, carrier DHCP/DNS/NAT, echo server
 *   const s = await net.sessionUp(3, { sticky: false });   // modem 3's data call: lease + public IP
 *   ...
 *   await net.destroy();                       // or cleanupLabs() after a crash
 *
 * Names and addresses: names.ts and address-plan.ts (documented in docs/lab.md (Network)).
 */
import { AppError } from "../../lib/errors.ts";
import { LoopbackLab } from "./loopback-lab.ts";
import { NamespaceLab, type NamespaceLabOptions } from "./namespace-lab.ts";
import { assertLabId } from "./names.ts";
import { NoneLab } from "./none-lab.ts";
import type { LabNetMode, LabNetwork } from "./types.ts";

export type { LabNetInfo, LabNetMode, LabNetwork, SessionInfo } from "./types.ts";
export { cleanupLabs, type CleanupReport, findLabIds } from "./cleanup.ts";
export { newLabId, labNames, wwanIf, carrierIf, LAB_PREFIX } from "./names.ts";
export { echoServerMain, startEchoServer } from "./echo-server.ts";
export { parseDhcpLog, parseDnsLog, parseEchoLog, readDhcpLog, readDnsLog, readEchoLog } from "./lab-logs.ts";
export type { DhcpEventEntry, DnsQueryEntry, EchoLogEntry } from "./lab-logs.ts";
export { canBuildLab } from "./netns.ts";
export * as labAddresses from "./address-plan.ts";

export type LabNetworkOptions = NamespaceLabOptions;

/** A lab network of the given mode. Nothing is created until setup(). */
export function createLabNetwork(mode: LabNetMode, opts: LabNetworkOptions): LabNetwork {
  assertLabId(opts.labId);
  switch (mode) {
    case "lab":
      return new NamespaceLab(opts);
    case "loopback":
      return new LoopbackLab(opts);
    case "none":
      return new NoneLab(opts.labId);
    default:
      throw new AppError("LAB_BAD_MODE", `unknown lab network mode ${JSON.stringify(mode)} (lab, loopback or none)`);
  }
}

/**
 * For the process that owns a lab (the `lteproxy sim` CLI): destroy it on SIGINT/SIGTERM/SIGHUP, then exit with
 * 128+signal. A plain exit is already covered (exit-hooks.ts). Returns a function that removes the handlers.
 */
export function destroyOnSignals(lab: LabNetwork, onDone: (signal: NodeJS.Signals) => void = defaultExit): () => void {
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
    const h = () => {
      void lab.destroy().catch(() => lab.destroySync?.()).finally(() => onDone(sig));
    };
    process.once(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
function defaultExit(signal: NodeJS.Signals): void {
  process.exit(128 + (SIGNUM[signal] ?? 0));
}
