/**
 * The modem's one RmNet data call, shared by AT$QCRMCALL / AT+CGACT and the lab qmicli (instance 1; ec25.md §4.5,
 * §5.4). Starting it asks the lab network for a session (private + public IP; the same public IP again with the
 * "sticky" probability); stopping it, losing registration, CFUN 0/4, a reboot or releasing the owning QMI client tells
 * the network the session is gone. Network calls of one modem run in order, never overlapping.
 */
import type { LabNetwork, SessionInfo } from "../net/types.ts";
import type { Rng } from "../rng.ts";
import type { DataSession, SessionOwner } from "./types.ts";

export type StartFailure = "no-sim" | "no-service" | "busy" | "active" | "net-error" | "aborted";

export interface DataCallHost {
  index: number;
  net?: LabNetwork;
  rng: Rng;
  /** Can a call start now? Returns the reason it cannot. */
  blocker(): "no-sim" | "no-service" | undefined;
  /** Probability that a reconnect keeps the public IP. */
  sticky(): number;
  dataCallMs(): number;
  log(msg: string, extra?: Record<string, unknown>): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DataCalls {
  session?: DataSession;
  /** Last session's addresses (for `list` after the call ended, and for sticky IPs without a lab network). */
  last?: SessionInfo;
  /** AT+QGDCNT byte counters (modem-wide, since reset). */
  txBytes = 0;
  rxBytes = 0;
  private starting = false;
  private epoch = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: DataCallHost) {}

  get active(): boolean {
    return this.session !== undefined;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async start(owner: SessionOwner, opts: { profile?: number; apn?: string } = {}):
    Promise<{ ok: true; session: DataSession } | { ok: false; reason: StartFailure }> {
    const blocked = this.host.blocker();
    if (blocked) return { ok: false, reason: blocked };
    if (this.session) return { ok: false, reason: "active" };
    if (this.starting) return { ok: false, reason: "busy" };
    this.starting = true;
    const epoch = this.epoch;
    try {
      await sleep(this.host.dataCallMs());
      if (epoch !== this.epoch) return { ok: false, reason: "aborted" };
      const again = this.host.blocker();
      if (again) return { ok: false, reason: again };
      const sticky = this.host.rng.chance(this.host.sticky());
      let info: SessionInfo;
      try {
        info = await this.serial(() => this.sessionUp(sticky));
      } catch (error) {
        this.host.log("lab network refused the session", { error: String(error) });
        return { ok: false, reason: "net-error" };
      }
      if (epoch !== this.epoch) {
        void this.serial(() => this.sessionDown());
        return { ok: false, reason: "aborted" };
      }
      this.session = {
        owner, pdh: this.host.rng.int(0x10000000, 0xfffffffe), profile: opts.profile ?? 1, apn: opts.apn ?? "",
        info, startedAt: Date.now(),
      };
      this.last = info;
      return { ok: true, session: this.session };
    } finally {
      this.starting = false;
    }
  }

  /** Ends the call (if any) and any start in progress. Resolves when the network has been told. */
  stop(): Promise<void> {
    this.epoch++;
    if (!this.session) return this.chain.then(() => undefined);
    this.session = undefined;
    return this.serial(() => this.sessionDown());
  }

  /** Traffic counters creep while connected (AT+QGDCNT). */
  tick(): void {
    if (!this.session) return;
    this.txBytes += this.host.rng.int(200, 4000);
    this.rxBytes += this.host.rng.int(500, 20000);
  }

  private async sessionUp(sticky: boolean): Promise<SessionInfo> {
    const { net, index, rng } = this.host;
    if (net) return net.sessionUp(index, { sticky });
    // No data plane: invent carrier-like addresses so AT/QMI answers stay realistic (CGNAT /29, ec25.md §5.4).
    const host = 8 * rng.int(0, 31);
    const base = `100.${64 + ((index >> 8) & 63)}.${index & 255}`;
    const publicIp = sticky && this.last ? this.last.publicIp : `198.${18 + rng.int(0, 1)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    return {
      privateIp: `${base}.${host + 2}`, prefix: 29, gateway: `${base}.${host + 1}`,
      dns: ["100.127.255.53", "100.127.255.54"], mtu: 1500, publicIp,
    };
  }

  private async sessionDown(): Promise<void> {
    const { net, index } = this.host;
    if (!net) return;
    try {
      await net.sessionDown(index);
    } catch (error) {
      this.host.log("lab network sessionDown failed", { error: String(error) });
    }
  }
}
