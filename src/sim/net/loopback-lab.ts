/**
 * `--net loopback`: the demo without root. Each session gets an address from 127.64.0.0/16 as both its private and
 * its public IP: all of 127/8 is local on Linux, so a proxy can bind to it without adding an alias, and the echo
 * server (in this process, 127.0.0.1, ephemeral port) sees it as the source. Reconnects rotate the address unless
 * sticky, like the real lab. There is no carrier: linkDown/linkUp only record the fault, and there is no DNS.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { loopbackIpAt, MAX_MODEMS } from "./address-plan.ts";
import { labPaths, type LabPaths } from "./build-lab.ts";
import { type EchoServer, startEchoServer } from "./echo-server.ts";
import { claimLab, releaseLab } from "./exit-hooks.ts";
import { labNames } from "./names.ts";
import { ownerAlive, ownRecord, readRecord, removeRecord, writeRecord } from "./registry.ts";
import type { LabNetInfo, LabNetwork, SessionInfo } from "./types.ts";

interface LoopSlot {
  session?: SessionInfo;
  last?: string;
  radioOk: boolean;
}

export class LoopbackLab implements LabNetwork {
  readonly mode = "loopback" as const;
  private readonly labId: string;
  private readonly paths: LabPaths;
  private slots: LoopSlot[] = [];
  private counter = 0;
  private echo?: EchoServer;
  private destroyed = false;

  constructor(opts: { labId: string; runDir: string }) {
    this.labId = opts.labId;
    this.paths = labPaths(join(opts.runDir, labNames(opts.labId).dirName));
  }

  async setup(count: number): Promise<void> {
    if (this.destroyed) throw new AppError("LAB_DESTROYED", "lab was destroyed");
    if (!Number.isInteger(count) || count < 0 || count > MAX_MODEMS) {
      throw new AppError("LAB_BAD_COUNT", `modem count must be 0..${MAX_MODEMS}, got ${count}`);
    }
    if (!this.echo) {
      if (!claimLab(this.labId, this)) throw new AppError("LAB_IN_USE", `lab ${this.labId} is already running in this process`);
      const rec = readRecord(this.labId);
      if (rec && rec.ownerPid !== process.pid && ownerAlive(rec)) {
        releaseLab(this.labId, this);
        throw new AppError("LAB_IN_USE", `lab ${this.labId} is owned by running process ${rec.ownerPid}`);
      }
      mkdirSync(this.paths.dir, { recursive: true });
      writeRecord(ownRecord(this.labId, "loopback", this.paths.dir));
      this.echo = startEchoServer({ hostname: "127.0.0.1", port: 0, logPath: this.paths.echoLog });
    }
    while (this.slots.length < count) this.slots.push({ radioOk: true });
  }

  private slot(index: number): LoopSlot {
    if (this.destroyed) throw new AppError("LAB_DESTROYED", "lab was destroyed");
    if (!this.echo) throw new AppError("LAB_NOT_READY", "call setup() before using the lab");
    const s = Number.isInteger(index) ? this.slots[index] : undefined;
    if (!s) throw new AppError("LAB_BAD_INDEX", `modem index ${index} is outside 0..${this.slots.length - 1}`);
    return s;
  }

  ifname(index: number): string | undefined {
    return Number.isInteger(index) && index >= 0 && index < MAX_MODEMS ? "lo" : undefined;
  }

  session(index: number): SessionInfo | undefined {
    return this.slots[index]?.session;
  }

  async sessionUp(index: number, opts: { sticky: boolean }): Promise<SessionInfo> {
    const s = this.slot(index);
    if (s.session) return s.session;
    let ip = opts.sticky ? s.last : undefined;
    if (!ip) {
      const inUse = new Set(this.slots.flatMap((x) => [x.session?.privateIp, x.last]));
      do ip = loopbackIpAt(this.counter++);
      while (inUse.has(ip));
    }
    // MTU of lo, so a driver that applies it changes nothing; no DNS: nothing can listen on :53 without root.
    s.session = { privateIp: ip, prefix: 8, gateway: "127.0.0.1", dns: [], mtu: 65536, publicIp: ip };
    s.last = ip;
    return s.session;
  }

  async sessionDown(index: number): Promise<void> {
    this.slot(index).session = undefined;
  }

  async linkDown(index: number): Promise<void> {
    this.slot(index).radioOk = false;
  }

  async linkUp(index: number): Promise<void> {
    this.slot(index).radioOk = true;
  }

  info(): LabNetInfo {
    return {
      mode: "loopback",
      labId: this.labId,
      echoUrl: this.echo ? `http://127.0.0.1:${this.echo.port}` : undefined,
      echoLogPath: this.paths.echoLog,
      dir: this.paths.dir,
    };
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.echo) return; // never set up (or refused): nothing of ours to remove
    await this.echo.stop();
    this.echo = undefined;
    rmSync(this.paths.dir, { recursive: true, force: true });
    removeRecord(this.labId);
    releaseLab(this.labId, this);
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.echo) return;
    void this.echo.stop();
    rmSync(this.paths.dir, { recursive: true, force: true });
    removeRecord(this.labId);
    releaseLab(this.labId, this);
  }
}
