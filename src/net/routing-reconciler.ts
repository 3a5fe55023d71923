/**
 * The routing reconciler: `apply(desired)` reads the kernel's rules, routes and addresses, plans the difference
 * (routing-plan.ts) and applies it in one `ip -batch`. Idempotent and safe on every tick; it only touches rules
 * and routes it owns (protocol tag + priority/table range), so foreign entries are never changed.
 */
import { childLogger, type Logger } from "../lib/logger.ts";
import { type CommandRunner, IpCommand } from "./ip-command.ts";
import { type GuardEntry, type ModemPlanStatus, type PlannedCommand, planRouting } from "./routing-plan.ts";
import { parseIpAddrs, parseIpRoutes, parseIpRules } from "./routing-state.ts";
import { DEFAULT_OWNED, type ModemRouting, type OwnedRanges, type RoutingState } from "./routing-types.ts";
import type { ValidationIssue } from "./routing-validate.ts";
import { fileSysctl, netnsSysctl, type SysctlAccess } from "./sysctl.ts";

export interface RoutingReconcilerOptions {
  /** Network namespace to work in (tests, lab); default: our own. */
  netns?: string;
  /** Runner for ip (default: src/lib/exec.ts run). */
  run?: CommandRunner;
  /** Overrides `run`/`netns` with a ready IpCommand. */
  ip?: IpCommand;
  /** Default: /proc/sys, or `ip netns exec <ns> sysctl` when netns is set. */
  sysctl?: SysctlAccess;
  owned?: Partial<OwnedRanges>;
  logger?: Logger;
}

export interface RoutingFailure {
  line: string;
  message: string;
  imei?: string;
}

/** The outcome of one apply(), for metrics, events and the panel. */
export interface RoutingApplyResult {
  /** Objects created that were not desired (or not in place) at the previous apply of this process. */
  added: number;
  /** Owned objects deleted because nothing desires them. */
  removed: number;
  /** Desired objects that had been in place and were missing or altered (drift, e.g. a rule deleted by hand). */
  repaired: number;
  /** Objects replaced because the desired value changed (new MTU, new gateway). */
  changed: number;
  /** sysctl values rewritten (rp_filter, ignore_routes_with_linkdown). */
  sysctlChanged: number;
  failures: RoutingFailure[];
  guards: GuardEntry[];
  issues: ValidationIssue[];
  modems: ModemPlanStatus[];
  /** The commands this apply ran (empty when nothing differed). */
  commands: PlannedCommand[];
  durationMs: number;
}

/** Declarative policy routing for the modems. One instance per namespace; calls are serialized. */
export class RoutingReconciler {
  readonly owned: OwnedRanges;
  private readonly ip: IpCommand;
  private readonly sysctl: SysctlAccess;
  private readonly log: Logger;
  /** Desired objects that were in place after the previous apply: key -> creating line. */
  private inPlace = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private last?: RoutingApplyResult;

  constructor(opts: RoutingReconcilerOptions = {}) {
    this.owned = { ...DEFAULT_OWNED, ...opts.owned };
    this.ip = opts.ip ?? new IpCommand({ run: opts.run, netns: opts.netns });
    this.sysctl = opts.sysctl ?? (opts.netns ? netnsSysctl(opts.netns, opts.run) : fileSysctl());
    this.log = opts.logger ?? childLogger("routing");
  }

  /** The result of the most recent apply, if any. */
  lastResult(): RoutingApplyResult | undefined {
    return this.last;
  }

  /** Reads rules, IPv4 routes of every table, and interfaces with their addresses. */
  async readState(): Promise<RoutingState> {
    const [rules, routes, addrs] = await Promise.all([
      this.ip.query(["-4", "-N", "-json", "rule", "show"]),
      this.ip.query(["-4", "-N", "-json", "route", "show", "table", "all"]),
      this.ip.query(["-json", "addr", "show"]),
    ]);
    return { rules: parseIpRules(rules), routes: parseIpRoutes(routes), links: parseIpAddrs(addrs) };
  }

  /** Makes the kernel match `desired` (the online modems). Safe to call on every tick and concurrently. */
  apply(desired: readonly ModemRouting[]): Promise<RoutingApplyResult> {
    const next = this.queue.then(() => this.applyNow(desired));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(desired: readonly ModemRouting[]): Promise<RoutingApplyResult> {
    const started = performance.now();
    const state = await this.readState();
    const plan = planRouting(state, desired, this.owned);
    const { failures: batchFailures } = await this.ip.batch(plan.commands.map((c) => c.line));
    const failedIdx = new Set(batchFailures.map((f) => f.index));
    const failures: RoutingFailure[] = batchFailures.map((f) => ({ line: f.line, message: f.message, imei: plan.commands[f.index]?.imei }));

    let added = 0, removed = 0, repaired = 0, changed = 0;
    plan.commands.forEach((c, i) => {
      if (failedIdx.has(i)) return;
      if (c.op === "remove") removed++;
      else if (this.inPlace.get(c.key) === c.line) repaired++;
      else if (c.op === "replace") changed++;
      else added++;
    });
    const failedKeys = new Set(plan.commands.filter((_, i) => failedIdx.has(i)).map((c) => c.key));
    this.inPlace = new Map([...plan.desired].filter(([key]) => !failedKeys.has(key)));

    const sysctlChanged = await this.applySysctl(plan.sysctl, failures);
    const result: RoutingApplyResult = {
      added, removed, repaired, changed, sysctlChanged, failures, guards: plan.guards, issues: plan.issues,
      modems: plan.modems, commands: plan.commands, durationMs: Math.round(performance.now() - started),
    };
    if (plan.commands.length || failures.length || sysctlChanged) {
      this.log.info({ added, removed, repaired, changed, sysctlChanged, failures: failures.length }, "routing reconciled");
    }
    for (const f of failures) this.log.warn({ imei: f.imei, line: f.line, err: f.message }, "routing command failed");
    this.last = result;
    return result;
  }

  private async applySysctl(wanted: Map<string, string>, failures: RoutingFailure[]): Promise<number> {
    if (wanted.size === 0) return 0;
    try {
      const current = await this.sysctl.read([...wanted.keys()]);
      // A key that cannot be read belongs to an interface that is gone; the next tick sees the new state.
      const writes = new Map([...wanted].filter(([key, value]) => current.has(key) && current.get(key) !== value));
      if (writes.size) await this.sysctl.write(writes);
      return writes.size;
    } catch (error) {
      failures.push({ line: "sysctl", message: (error as Error).message });
      return 0;
    }
  }
}
