/**
 * The appliance checks `lteproxy doctor` runs after its database/tools/device-dir checks (src/cli/doctor.ts):
 * udev rules, modems per slot, ModemManager, qmicli, routing vs database, proxy ports, data plane, PostgreSQL
 * connections, clock. Checks that need the database report a warning without one instead of failing.
 */
import type { Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { dataPlaneModems, type DataPlaneModem } from "../../db/queries/data-plane.ts";
import type { RoutingReconciler } from "../../net/routing-reconciler.ts";
import { BUILD_DATE } from "../../version.ts";
import type { CheckResult } from "../doctor.ts";
import { checkClock, checkModemManager, checkQmicli, checkSlots, checkUdevRules, defaultRunner, UDEV_RULE_PATHS, type Runner } from "./doctor-system.ts";
import { checkDataPlane, checkDnsRelay, checkMaxConnections, checkProxyPorts, checkRouting } from "./doctor-runtime.ts";

export interface DoctorDeps {
  systemctl?: Runner;
  udevadm?: Runner;
  /** Runs qmicli and timedatectl. */
  run?: Runner;
  udevRulePaths?: string[];
  reconciler?: Pick<RoutingReconciler, "readState" | "owned">;
  probe?: (host: string, port: number, timeoutMs?: number) => Promise<boolean>;
  /** Asks a modem's DNS relay (3proxy engine); the RCODE, or null when it is silent. */
  dnsProbe?: (proxyPort: number) => Promise<number | null>;
  now?: Date;
}

const needsDb = (name: string): CheckResult => ({ name, level: "warn", detail: "skipped: needs the database" });

/** Every extra check, in the order doctor prints them. Never throws: a check that crashes reports `fail`. */
export async function extraDoctorChecks(config: Config, sql?: Sql, deps: DoctorDeps = {}): Promise<CheckResult[]> {
  const runner = deps.run ?? defaultRunner;
  const guard = async (name: string, fn: () => Promise<CheckResult> | CheckResult): Promise<CheckResult> => {
    try {
      return await fn();
    } catch (error) {
      return { name, level: "fail", detail: `check crashed: ${(error as Error).message}` };
    }
  };
  let modems: DataPlaneModem[] | undefined;
  let dbNow: Date | undefined;
  if (sql) {
    try {
      modems = await dataPlaneModems(sql, config.node.id);
      dbNow = (await sql`select now() as t`)[0]!.t as Date;
    } catch {
      modems = undefined;
    }
  }
  const out: CheckResult[] = [];
  out.push(checkUdevRules(config, deps.udevRulePaths ?? UDEV_RULE_PATHS));
  out.push(await guard("modems per slot", () => checkSlots(config, modems ? { slots: modems.filter((m) => m.state !== "unplugged" && m.slot).map((m) => m.slot!) } : undefined)));
  out.push(await guard("ModemManager", () => checkModemManager(config, {
    systemctl: deps.systemctl ?? ((a) => runner(["systemctl", ...a])), udevadm: deps.udevadm ?? ((a) => runner(["udevadm", ...a])),
  })));
  out.push(await guard("qmicli", () => checkQmicli(config, runner)));
  out.push(modems ? await guard("routing rules and tables", () => checkRouting(config, modems!, deps.reconciler)) : needsDb("routing rules and tables"));
  out.push(modems ? await guard("proxy ports listening", () => checkProxyPorts(config, modems!, deps.probe)) : needsDb("proxy ports listening"));
  out.push(await guard("data plane", () => checkDataPlane(config)));
  out.push(modems || config.proxy.engine !== "3proxy" ? await guard("DNS relay", () => checkDnsRelay(config, modems ?? [], deps.dnsProbe)) : needsDb("DNS relay"));
  out.push(sql ? await guard("PostgreSQL connections", () => checkMaxConnections(config, sql)) : needsDb("PostgreSQL connections"));
  out.push(await guard("clock", () => checkClock({ dbNow, buildDate: BUILD_DATE, now: deps.now, timedatectl: (a) => runner(["timedatectl", ...a]) })));
  return out;
}
