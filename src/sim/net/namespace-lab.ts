/**
 * `--net lab`: the real topology of topology.ts, built from namespaces this object creates and removes.
 * A session is: a DHCP reservation on the modem's link (answered by the carrier's dnsmasq, so the box's udhcpc gets
 * a real lease), an SNAT mapping private -> public in the carrier, and the carrier end of the link up.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { AppError } from "../../lib/errors.ts";
import { childLogger, type Logger } from "../../lib/logger.ts";
import {
  CARRIER_DNS, ECHO_HOST, ECHO_IP, linkMac, linkPlan, MAX_MODEMS, privateIpFor, publicIpAt, UPLINK_IP,
} from "./address-plan.ts";
import { buildTopology, defaultEchoCommand, growTopology, type LabPaths, labPaths, pickLanSubnet, startEcho } from "./build-lab.ts";
import { type CarrierBatch, CarrierBatcher } from "./carrier-batcher.ts";
import { removeLabObjects } from "./cleanup.ts";
import { renderDhcpHosts, renderDnsmasqConf } from "./dnsmasq-config.ts";
import { type DnsmasqProcess, startDnsmasq, stopProcess } from "./dnsmasq.ts";
import { claimLab, releaseLab } from "./exit-hooks.ts";
import { carrierIf, type LabNames, labNames, wwanIf } from "./names.ts";
import { canBuildLab, dnsmasqPath, ipBatch, nftPath, nsRun } from "./netns.ts";
import { ownerAlive, ownRecord, readRecord, removeRecord, writeRecord } from "./registry.ts";
import { NFT_SNAT_MAP, NFT_TABLE, NFT_UPLINK_COUNTER, type LanAddressing } from "./topology.ts";
import type { LabNetInfo, LabNetwork, SessionInfo } from "./types.ts";

export interface NamespaceLabOptions {
  labId: string;
  /** Parent directory; the lab's files go to <runDir>/ltpx-<id>-net/. */
  runDir: string;
  /** MTU of the modem links, handed out over DHCP (EC25 carriers: 1500/1430/1400/1358, ec25.md §5.4). */
  mtu?: number;
  /** DHCP lease time; 7200 s as the real modem's DHCP answers [T 05]. */
  leaseSeconds?: number;
  /** argv that runs echo-server.ts (default: this Bun on the source file). */
  echoCommand?: string[];
}

interface LinkState {
  session?: SessionInfo;
  /** Resolves when the carrier applied the current session (a second sessionUp waits on it). */
  applied?: Promise<void>;
  lastPublic?: string;
  sessions: number;
  radioOk: boolean;
}

export class NamespaceLab implements LabNetwork {
  readonly mode = "lab" as const;
  private readonly n: LabNames;
  private readonly paths: LabPaths;
  private readonly mtu: number;
  private readonly leaseSeconds: number;
  private readonly echoCommand: string[];
  private readonly log: Logger;
  private links: LinkState[] = [];
  private lan?: LanAddressing;
  private publicCounter = 0;
  private dnsmasq?: DnsmasqProcess;
  private echo?: Subprocess;
  private readonly batcher = new CarrierBatcher((b) => this.applyCarrier(b));
  private setupChain: Promise<void> = Promise.resolve();
  private destroyed = false;
  /** This object holds the lab id (claimed in-process and in the registry); only then does teardown remove objects. */
  private claimed = false;

  constructor(opts: NamespaceLabOptions) {
    this.n = labNames(opts.labId);
    this.paths = labPaths(join(opts.runDir, this.n.dirName));
    this.mtu = opts.mtu ?? 1500;
    this.leaseSeconds = opts.leaseSeconds ?? 7200;
    this.echoCommand = opts.echoCommand ?? defaultEchoCommand();
    this.log = childLogger("sim-net", { lab: opts.labId });
  }

  setup(count: number): Promise<void> {
    const next = this.setupChain.then(() => this.setupNow(count));
    this.setupChain = next.catch(() => {});
    return next;
  }

  private async setupNow(count: number): Promise<void> {
    if (this.destroyed) throw new AppError("LAB_DESTROYED", "lab was destroyed");
    if (!Number.isInteger(count) || count < 0 || count > MAX_MODEMS) {
      throw new AppError("LAB_BAD_COUNT", `modem count must be 0..${MAX_MODEMS}, got ${count}`);
    }
    if (count <= this.links.length && this.dnsmasq) return;
    if (!this.dnsmasq) return this.buildFirst(count);
    const from = this.links.length;
    await growTopology({ names: this.n, from, to: count, mtu: this.mtu });
    this.addLinkStates(count);
    // dhcp-range is not re-read on SIGHUP: restart (the reservations and leases are files and survive).
    await this.dnsmasq.stop();
    this.dnsmasq = await this.launchDnsmasq();
    this.log.info({ from, to: count }, "lab links added");
  }

  private addLinkStates(count: number): void {
    while (this.links.length < count) this.links.push({ sessions: 0, radioOk: true });
  }

  private async buildFirst(count: number): Promise<void> {
    const started = performance.now();
    if (!canBuildLab()) throw new AppError("LAB_NEEDS_ROOT", "--net lab needs root and iproute2 (use --net loopback without root)");
    const nft = nftPath();
    if (!nft || !dnsmasqPath()) throw new AppError("LAB_TOOL_MISSING", "--net lab needs nft and dnsmasq (Debian: nftables, dnsmasq-base)");
    if (!claimLab(this.n.labId, this)) throw new AppError("LAB_IN_USE", `lab ${this.n.labId} is already running in this process`);
    const rec = readRecord(this.n.labId);
    if (rec && rec.ownerPid !== process.pid && ownerAlive(rec)) {
      releaseLab(this.n.labId, this);
      throw new AppError("LAB_IN_USE", `lab ${this.n.labId} is owned by running process ${rec.ownerPid}`);
    }
    this.claimed = true;
    try {
      // Leftovers of a crashed run with the same id go first ("idempotent per lab id").
      await removeLabObjects(this.n.labId, rec?.dir);
      mkdirSync(this.paths.dir, { recursive: true });
      writeRecord(ownRecord(this.n.labId, "lab", this.paths.dir));
      writeFileSync(this.paths.dhcpHosts, "");
      this.lan = await pickLanSubnet(this.n.labId);
      await buildTopology({ names: this.n, lan: this.lan, count, mtu: this.mtu, nft });
      this.addLinkStates(count);
      const [dnsmasq, echo] = await Promise.all([
        this.launchDnsmasq(),
        startEcho({ ns: this.n.inetNs, command: this.echoCommand, paths: this.paths }),
      ]);
      this.dnsmasq = dnsmasq;
      this.echo = echo;
    } catch (error) {
      // Remove what was built; the object stays usable for another setup() attempt.
      await this.teardown(false);
      throw error;
    }
    this.log.info({ count, ms: Math.round(performance.now() - started) }, "lab network up");
  }

  private launchDnsmasq(): Promise<DnsmasqProcess> {
    writeFileSync(this.paths.dnsmasqConf, renderDnsmasqConf({
      count: this.links.length, mtu: this.mtu, leaseSeconds: this.leaseSeconds, logPath: this.paths.dnsLog,
      leasePath: this.paths.leases, hostsPath: this.paths.dhcpHosts, pidPath: this.paths.dnsmasqPid,
    }));
    return startDnsmasq({
      ns: this.n.carrierNs, dnsmasq: dnsmasqPath()!, confPath: this.paths.dnsmasqConf, logPath: this.paths.dnsLog,
      hostsPath: this.paths.dhcpHosts, stderrPath: this.paths.dnsmasqStderr,
    });
  }

  private link(index: number): LinkState {
    if (this.destroyed) throw new AppError("LAB_DESTROYED", "lab was destroyed");
    if (!this.dnsmasq) throw new AppError("LAB_NOT_READY", "call setup() before using the lab");
    const l = Number.isInteger(index) ? this.links[index] : undefined;
    if (!l) throw new AppError("LAB_BAD_INDEX", `modem index ${index} is outside 0..${this.links.length - 1}`);
    return l;
  }

  ifname(index: number): string | undefined {
    return Number.isInteger(index) && index >= 0 && index < MAX_MODEMS ? wwanIf(index) : undefined;
  }

  session(index: number): SessionInfo | undefined {
    return this.links[index]?.session;
  }

  private nextPublic(): string {
    const inUse = new Set(this.links.flatMap((l) => [l.session?.publicIp, l.lastPublic]));
    for (;;) {
      const ip = publicIpAt(this.publicCounter++);
      if (!inUse.has(ip)) return ip;
    }
  }

  async sessionUp(index: number, opts: { sticky: boolean }): Promise<SessionInfo> {
    const l = this.link(index);
    if (l.session) {
      await l.applied;
      return l.session;
    }
    const plan = linkPlan(index);
    const privateIp = privateIpFor(index, l.sessions++);
    // Sticky CGNAT (ec25.md §6): the carrier hands the previous public address back.
    const publicIp = opts.sticky && l.lastPublic ? l.lastPublic : this.nextPublic();
    const info: SessionInfo = { privateIp, prefix: plan.prefix, gateway: plan.gateway, dns: [...CARRIER_DNS], mtu: this.mtu, publicIp };
    l.session = info;
    l.lastPublic = publicIp;
    l.applied = this.batcher.submit({
      nft: [`add element ip ${NFT_TABLE} ${NFT_SNAT_MAP} { ${privateIp} : ${publicIp} }`],
      hosts: true,
      ip: l.radioOk ? [`link set dev ${carrierIf(index)} up`] : [],
    });
    try {
      await l.applied;
    } catch (error) {
      if (l.session === info) l.session = undefined;
      throw error;
    }
    this.log.debug({ index, privateIp, publicIp }, "session up");
    return info;
  }

  async sessionDown(index: number): Promise<void> {
    const l = this.link(index);
    const s = l.session;
    if (!s) return;
    await l.applied?.catch(() => {});
    l.session = undefined;
    await this.batcher.submit({
      ip: [`link set dev ${carrierIf(index)} down`],
      nft: [`delete element ip ${NFT_TABLE} ${NFT_SNAT_MAP} { ${s.privateIp} }`],
      hosts: true,
    });
  }

  async linkDown(index: number): Promise<void> {
    const l = this.link(index);
    l.radioOk = false;
    // Carrier end down: the box's wwan loses carrier, its routes get "linkdown", its address stays.
    await this.batcher.submit({ ip: [`link set dev ${carrierIf(index)} down`] });
  }

  async linkUp(index: number): Promise<void> {
    const l = this.link(index);
    l.radioOk = true;
    if (l.session) await this.batcher.submit({ ip: [`link set dev ${carrierIf(index)} up`] });
  }

  private async applyCarrier(b: CarrierBatch): Promise<void> {
    if (b.nft.length > 0) await nsRun(this.n.carrierNs, [nftPath()!, "-f", "-"], { input: `${b.nft.join("\n")}\n` });
    if (b.hosts) {
      const entries = this.links.flatMap((l, i) => (l.session ? [{ mac: linkMac(i), ip: l.session.privateIp }] : []));
      writeFileSync(this.paths.dhcpHosts, renderDhcpHosts(entries));
      await this.dnsmasq!.reload();
    }
    if (b.ip.length > 0) {
      await ipBatch(b.ip, this.n.carrierNs);
    }
  }

  async uplinkPackets(): Promise<number> {
    const out = await nsRun(this.n.inetNs, [nftPath()!, "-j", "list", "counter", "ip", NFT_TABLE, NFT_UPLINK_COUNTER]);
    const doc = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> };
    return doc.nftables.find((e) => e.counter)?.counter?.packets ?? 0;
  }

  info(): LabNetInfo {
    return {
      mode: "lab",
      labId: this.n.labId,
      boxNs: this.n.boxNs,
      carrierNs: this.n.carrierNs,
      inetNs: this.n.inetNs,
      uplinkIp: UPLINK_IP,
      lanIp: this.lan?.boxIp,
      lanClientIp: this.lan?.hostIp,
      lanIfname: this.n.lanBoxIf,
      uplinkIfname: this.n.uplinkBoxIf,
      echoUrl: `http://${ECHO_IP}`,
      echoHost: ECHO_HOST,
      echoLogPath: this.paths.echoLog,
      dnsLogPath: this.paths.dnsLog,
      dnsServers: [...CARRIER_DNS],
      dir: this.paths.dir,
    };
  }

  private async teardown(final: boolean): Promise<void> {
    if (final) this.batcher.close();
    await Promise.all([this.dnsmasq?.stop(), this.echo && stopProcess(this.echo)]);
    this.dnsmasq = undefined;
    this.echo = undefined;
    this.links = [];
    this.lan = undefined;
    if (!this.claimed) return;
    this.claimed = false;
    await removeLabObjects(this.n.labId, this.paths.dir);
    releaseLab(this.n.labId, this);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.setupChain;
    await this.teardown(true);
    this.log.info("lab network removed");
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.claimed) return;
    this.claimed = false;
    this.batcher.close();
    this.dnsmasq?.proc.kill("SIGKILL");
    this.echo?.kill("SIGKILL");
    const spawn = (argv: string[], input?: string) =>
      Bun.spawnSync(argv, { stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "pipe", stderr: "ignore" });
    for (const ns of [this.n.boxNs, this.n.carrierNs, this.n.inetNs]) {
      for (const pid of spawn(["ip", "netns", "pids", ns]).stdout.toString().split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    spawn(["ip", "-force", "-batch", "-"], `link del ${this.n.lanHostIf}\nnetns del ${this.n.boxNs}\nnetns del ${this.n.carrierNs}\nnetns del ${this.n.inetNs}\n`);
    rmSync(`/etc/netns/${this.n.boxNs}`, { recursive: true, force: true });
    rmSync(this.paths.dir, { recursive: true, force: true });
    removeRecord(this.n.labId);
    releaseLab(this.n.labId, this);
  }
}
