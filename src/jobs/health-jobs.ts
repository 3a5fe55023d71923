/**
 * Wires health into the control plane (issue 6): the sweeper, the heal ladder, the hub watcher and the alert center,
 * and the named jobs that drive them:
 *   health.sweep      every `health.interval_s` (settings, 30–60 s): probes, samples, one event; then heal triggers
 *                     and alert rules
 *   health.retention  hourly: samples (and job runs) older than `retention.samples_days` (default 7)
 *   logs.retention    hourly: connection log, event log, audit and security rows older than `retention.logs_days` (30)
 * app.ts calls startHealth() once the modem manager runs and hands `jobs` to the panel (HttpContext.jobs).
 */
import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";
import type { EventSink } from "../db/queries/events.ts";
import { deleteOldSamples } from "../db/queries/health.ts";
import { deleteOldAudit, deleteOldConnectionLogs, deleteOldEvents } from "../db/queries/retention.ts";
import { pruneJobRuns } from "../db/queries/job-runs.ts";
import type { ModemState } from "../db/queries/modem-state.ts";
import { getSettings } from "../db/queries/settings.ts";
import type { EventStream } from "../events/event-stream.ts";
import { AlertCenter } from "../health/alert-center.ts";
import { DEFAULT_ALERT_RULES, desiredAlerts, modemKey, type AlertModemView, type AlertRuleConfig } from "../health/alert-rules.ts";
import { HealLadder, type LadderDeps, type LadderOptions } from "../health/heal-ladder.ts";
import { curlProbe, type HttpProbe } from "../health/http-probe.ts";
import { HubWatcher, type HubOptions } from "../health/hub-watch.ts";
import { healthMetrics, type MetricsLike } from "../health/metrics.ts";
import { HealthSweeper, type SweepOptions, type SweepReport } from "../health/sweep.ts";
import { DEFAULT_TRIGGERS, healTrigger, type TriggerConfig } from "../health/triggers.ts";
import type { WebhookOptions } from "../health/webhook.ts";
import type { HealthCondition } from "../http/context.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";
import type { ModemManager } from "../modem/manager.ts";
import { JobRegistry } from "./registry.ts";

const log = childLogger("health");

export interface HealthOptions {
  sweep?: Partial<SweepOptions>;
  triggers?: Partial<TriggerConfig>;
  ladder?: Partial<LadderOptions>;
  hub?: Partial<HubOptions>;
  alerts?: Partial<AlertRuleConfig> & { resolveAfter?: number; webhook?: WebhookOptions; fetchImpl?: typeof fetch };
  /** Observer of every heal attempt (tests stage faults with it). */
  onStep?: LadderDeps["onStep"];
  /** false: register the jobs but do not start the registry (tests drive sweepNow). Default true. */
  schedule?: boolean;
}

export interface HealthDeps {
  sql: Sql;
  nodeId: string;
  config: Config;
  manager: ModemManager;
  /** The event stream: panel-ordered reboots (action.requested) are announced to the hub watcher. */
  events?: EventStream;
  /** Data-path probe; default: curl bound to the modem's address, inside config.net.netns when set. */
  httpProbe?: HttpProbe;
  /** Another subsystem holds the modem (rotation.busy): no sweep probe, no heal ladder meanwhile. */
  busy?: (modemId: number) => boolean;
  /** Where heal-step events go: the app's OutageBuffer; the table by default. */
  sink?: EventSink;
  /** The panel's metrics registry (src/http/metrics-registry.ts fits). */
  metrics?: MetricsLike;
  clock?: Clock;
  /**
   * The node's job registry, when the app keeps one for every subsystem ("registered in one place"): health adds
   * its jobs and the caller starts it. Without one, health makes its own and starts it.
   */
  registry?: JobRegistry;
  options?: HealthOptions;
}

export interface RunningHealth {
  /** The panel's JobsView (HttpContext.jobs): list, runNow; plus register, setInterval, stop. */
  jobs: JobRegistry;
  /** One sweep now, followed by heal triggers and alert rules (what the health.sweep job runs). */
  sweepNow(): Promise<SweepReport>;
  sweeper: HealthSweeper;
  ladder: HealLadder;
  hubs: HubWatcher;
  alerts: AlertCenter;
  /** Named conditions for the panel's system page (HttpContext.conditions). */
  conditions(): HealthCondition[];
  stop(): Promise<void>;
}

/** Starts health for one node. Throws only when the database is unreachable at start. */
export async function startHealth(deps: HealthDeps): Promise<RunningHealth> {
  const { sql, nodeId, config, manager } = deps;
  const o = deps.options ?? {};
  const clock = deps.clock ?? systemClock;
  const metrics = healthMetrics(deps.metrics);
  const triggerCfg: TriggerConfig = { ...DEFAULT_TRIGGERS, ...o.triggers };
  const ruleCfg: AlertRuleConfig = { ...DEFAULT_ALERT_RULES, ...o.alerts };
  const netns = config.net.netns;
  const httpProbe = deps.httpProbe ?? curlProbe({ wrapper: netns ? ["ip", "netns", "exec", netns] : [], parallel: config.health.concurrency });
  const settings = () => getSettings(sql, nodeId, { "health.interval_s": config.health.interval_s, "retention.samples_days": config.health.retention_days });

  let ladder!: HealLadder;
  const sweeper = new HealthSweeper({ sql, nodeId, modems: manager, httpProbe, metrics, skip: (id) => ladder.active(id) || !!deps.busy?.(id) }, {
    concurrency: config.health.concurrency, checkUrl: config.health.check_url, ...o.sweep,
  });
  const alerts = new AlertCenter({
    sql, nodeId, metrics, webhook: o.alerts?.webhook, resolveAfter: o.alerts?.resolveAfter, fetchImpl: o.alerts?.fetchImpl,
  });
  let hubs!: HubWatcher;
  // "modem 1-1.3 (IMEI …)": the USB position a technician finds on the rack, and the identity the panel shows.
  const label = (id: number) => {
    const m = manager.get(id);
    const where = sweeper.rows.get(id)?.usb_device ?? m?.slot ?? String(id);
    return m ? `modem ${where} (${m.imei})` : `modem ${id}`;
  };
  ladder = new HealLadder({
    sql, nodeId, modems: manager, sysfsRoot: config.paths.sysfs_root, clock, busy: deps.busy, sink: deps.sink,
    usbDeviceOf: async (id) => (await sweeper.loadRows()).get(id)?.usb_device ?? null,
    verify: (id) => sweeper.verify(id),
    expectVanish: (id, ms) => hubs.expectVanish(id, ms),
    // The streaks that started the ladder belong to the time before it (sweeps skip a healing modem): a fresh start,
    // or the next sweep would start another ladder on the strength of the old failures.
    onRecovered: async (id) => sweeper.resetStreaks(id),
    onFailed: async (id, reason, detail) => {
      sweeper.resetStreaks(id);
      await alerts.raise({
        kind: "modem.failed", severity: "critical", scope: "modem", modemId: id, hub: sweeper.hubOf(id), dedupKey: modemKey(id, "failed"),
        message: `${label(id)} failed: the heal ladder could not bring it back (${reason})`, details: { reason, detail },
      });
    },
    onStep: async (e) => {
      if (e.phase === "end") metrics.healSteps.inc({ step: e.step, result: e.result ?? "unknown" });
      metrics.healing.set({}, ladder.activeIds().length);
      await o.onStep?.(e);
    },
  }, o.ladder);
  hubs = new HubWatcher({ sql, nodeId, modems: manager, hubOf: (id) => sweeper.hubOf(id), ladder, sysfsRoot: config.paths.sysfs_root, alerts, clock }, o.hub);

  await sweeper.loadRows();
  // After a restart: a modem left `healing` by a crash resumes its ladder; a `failed` one keeps its cool-down.
  for (const m of manager.list()) {
    if (m.state === "failed") ladder.breakers.restore(m.id, m.stateSince.getTime());
  }
  const resume = manager.list().filter((m) => m.state === "healing").map((m) => m.id);

  const unsubs: Array<() => void> = [];
  unsubs.push(manager.on("state", (e) => hubs.onTransition(e.modemId, e.from, e.to)));
  let reload: ReturnType<typeof setTimeout> | null = null;
  unsubs.push(manager.on("identified", () => {
    // New modems (or moved ones) get their hub into the row cache before they can vanish.
    reload ??= setTimeout(() => {
      reload = null;
      void sweeper.loadRows().catch(() => undefined);
    }, 500);
  }));
  if (deps.events) {
    unsubs.push(deps.events.subscribe((ev) => {
      const p = ev.payload as { action?: string };
      if (ev.node_id !== nodeId || ev.modem_id === null) return;
      // A planned reboot (panel action, or a rotation escalated to a reboot) is not a hub failure.
      const planned = (ev.kind === "action.requested" && (p.action === "reboot" || p.action === "rotate")) || ev.kind === "rotation.rebooting";
      if (planned) hubs.expectVanish(Number(ev.modem_id), 180_000);
    }));
  }

  let last: SweepReport | null = null;
  async function afterSweep(report: SweepReport): Promise<void> {
    const now = clock.now();
    const modems = manager.list();
    for (const m of modems) {
      const reason = healTrigger({
        state: m.state, stateSinceMs: m.stateSince.getTime(), present: m.present, track: sweeper.track(m.id), now,
        healing: ladder.active(m.id) || !!deps.busy?.(m.id), hubDown: hubs.covers(m.id), breakerAllows: ladder.breakers.allows(m.id, now),
      }, triggerCfg);
      if (reason) void ladder.heal(m.id, reason);
    }
    const views: AlertModemView[] = modems.map((m) => {
      const t = sweeper.track(m.id);
      return {
        id: m.id, label: label(m.id), state: m.state as ModemState, stateReason: m.stateReason, stateSinceMs: m.stateSince.getTime(),
        temperature: t.temperature, noSignalSweeps: t.noSignal, hub: sweeper.hubOf(m.id), hubDown: hubs.covers(m.id),
      };
    });
    await alerts.reconcile(desiredAlerts(views, now, ruleCfg), (key) => key.startsWith("modem:"))
      .catch((e) => log.warn({ err: String(e) }, "alert rules not applied"));
    metrics.hubsDown.set({}, hubs.open().length);
    metrics.healing.set({}, ladder.activeIds().length);
    last = report;
  }

  // Two callers joining the same sweep (the job and a manual run) evaluate it once.
  const evaluated = new WeakMap<SweepReport, Promise<void>>();
  async function sweepNow(): Promise<SweepReport> {
    const report = await sweeper.sweep();
    let after = evaluated.get(report);
    if (!after) evaluated.set(report, (after = afterSweep(report)));
    await after;
    return report;
  }

  const registry = deps.registry ?? new JobRegistry({ sql, nodeId });
  registry.register({
    id: "health.sweep",
    description: "Health checks of every modem (AT probes, data path, public IP), heal triggers, alerts",
    everySeconds: async () => (await settings())["health.interval_s"],
    async run() {
      const r = await sweepNow();
      if (r.error) throw new Error(`sweep not stored: ${r.error}`);
      return `${r.modemIds.length} modems, ${r.failed.length} failing, ${Math.round(r.durationMs)} ms`;
    },
  });
  registry.register({
    id: "health.retention",
    description: "Deletes health samples and job runs older than the retention (retention.samples_days)",
    cron: "0 17 * * * *",
    async run() {
      const days = (await settings())["retention.samples_days"];
      const samples = await deleteOldSamples(sql, days);
      const runs = await pruneJobRuns(sql, nodeId, days);
      return `deleted ${samples} samples and ${runs} job runs older than ${days} days`;
    },
  });
  registry.register({
    id: "logs.retention",
    description: "Deletes connection log, event log, audit and security rows older than the retention (retention.logs_days), in batches",
    cron: "0 23 * * * *",
    async run() {
      const days = (await settings())["retention.logs_days"];
      const conns = await deleteOldConnectionLogs(sql, days, { nodeId });
      // The event sequence is shared by every node: its oldest prefix goes, so what stays is still gapless.
      const events = await deleteOldEvents(sql, days);
      const { audit, security } = await deleteOldAudit(sql, days, { nodeId });
      return `older than ${days} days: ${conns} connection log, ${events} event, ${audit} audit and ${security} security rows deleted`;
    },
  });
  if (!deps.registry && o.schedule !== false) await registry.start();
  for (const id of resume) void ladder.heal(id, "resumed after a control-plane restart", { force: true });

  let stopped = false;
  return {
    jobs: registry,
    sweepNow,
    sweeper, ladder, hubs, alerts,
    conditions() {
      const out: HealthCondition[] = [];
      for (const i of hubs.open()) {
        out.push({ code: "USB_HUB_DOWN", severity: "critical", text: `USB hub ${i.hub}: ${i.modemIds.size} modems vanished together`, since: new Date(i.openedAt) });
      }
      const modems = manager.list();
      const failed = modems.filter((m) => m.state === "failed");
      if (failed.length) out.push({ code: "MODEMS_FAILED", severity: "critical", text: `${failed.length} modem(s) failed: the heal ladder gave up` });
      const healing = ladder.activeIds().length;
      if (healing) out.push({ code: "MODEMS_HEALING", severity: "info", text: `${healing} modem(s) being healed` });
      if (last?.error) out.push({ code: "HEALTH_SWEEP_FAILING", severity: "warning", text: `the last health sweep could not be stored: ${last.error}`, since: last.startedAt });
      return out;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const u of unsubs) u();
      if (reload) clearTimeout(reload);
      if (!deps.registry) await registry.stop();
      await Promise.all([ladder.stop(), hubs.stop()]);
      await Promise.race([alerts.idle(), Bun.sleep(2000)]);
    },
  };
}
