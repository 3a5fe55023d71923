/**
 * One call that wires IP rotation into a control plane (src/app.ts): the service (after boot recovery), the CLI's
 * cross-process requests, and the per-modem schedule.
 *
 *   const rotation = await startRotation({ sql, nodeId, modems: manager, events: outage, probePublicIp,
 *     subscribe: (fn) => events.subscribe(fn) });
 *   ...
 *   await rotation.stop();     // on SIGTERM, before manager.stop()
 */
import { eventSink, type EventRow } from "../db/queries/events.ts";
import { RotationScheduler } from "./rotation-schedule.ts";
import { serveRotationRequests } from "./rotation-requests.ts";
import { RotationService, type RotationServiceOptions } from "./rotation.ts";

export interface StartRotationOptions extends RotationServiceOptions {
  /** EventStream.subscribe: where `lteproxy rotate` requests arrive. */
  subscribe(listener: (ev: EventRow) => void): () => void;
  /** Run the schedule on its own timer (default true); false when the jobs engine calls `scheduler.tick()`. */
  scheduleTimer?: boolean;
  scheduleEveryMs?: number;
}

export interface RunningRotation {
  service: RotationService;
  scheduler: RotationScheduler;
  /** Stops schedules and CLI requests, then drains running jobs (cancelled after `drainMs`, default 20 s). */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

export async function startRotation(opts: StartRotationOptions): Promise<RunningRotation> {
  const sink = opts.events ?? eventSink(opts.sql);
  const service = new RotationService({ ...opts, events: sink });
  await service.start();
  const unserve = serveRotationRequests(service, opts.subscribe, { nodeId: opts.nodeId, events: sink });
  const scheduler = new RotationScheduler({ sql: opts.sql, nodeId: opts.nodeId, rotation: service, everyMs: opts.scheduleEveryMs });
  if (opts.scheduleTimer !== false) scheduler.start();
  return {
    service,
    scheduler,
    async stop({ drainMs } = {}) {
      scheduler.stop();
      unserve();
      await service.stop({ drainMs });
    },
  };
}
