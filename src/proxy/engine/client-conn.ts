/**
 * One accepted client connection: protocol detection from the first byte, timeouts, counters,
 * the connection log record, and a close that always releases everything exactly once.
 * The protocol itself lives in http-session.ts / socks5-session.ts / tunnel.ts.
 */
import type { Socket } from "bun";
import type { PortAuth } from "./auth.ts";
import type { ConnLogEntry } from "./conn-log-spool.ts";
import type { EngineContext } from "./context.ts";
import { Endpoint } from "./endpoint.ts";
import { HttpSession } from "./http-session.ts";
import type { PortRuntime } from "./port-runtime.ts";
import type { ResultCode } from "./results.ts";
import { Socks5Session } from "./socks5-session.ts";
import type { UserCounters } from "./stats.ts";
import type { Sweepable } from "./sweeper.ts";

/** What a protocol handler must do for the connection. */
export interface ConnHandler {
  onClientData(chunk: Buffer): void;
  /** The client sent FIN. */
  onClientEnd(): void;
  /** The handshake deadline passed (slowloris, silent client). */
  onHandshakeTimeout(): void;
  /** The connection is closing: release upstreams. */
  onClose(): void;
  /** Between keep-alive requests with nothing in flight (closed at once on engine stop). */
  isIdle?(): boolean;
  /** Folds bytes moved outside JS (the splice relay) into the counters; called by the sweeper. */
  poll?(): void;
}

interface OpenRecord {
  ts: string;
  startMs: number;
  proto: ConnLogEntry["proto"];
  target: string | null;
  up: number;
  down: number;
  status: number;
  connected: boolean;
}

export class ClientConn implements Sweepable {
  readonly client: Endpoint;
  readonly clientIp: string;
  readonly clientPort: number;
  /** Auth rules as they were at accept: a reload changes auth for new connections only. */
  readonly auth: PortAuth;
  readonly ctx: EngineContext;
  /** Over the port's connection limit: it gets a refusal once its first request is parsed. */
  readonly overLimit: boolean;
  user: string | null = null;
  userCounters: UserCounters | null = null;
  handler: ConnHandler | null = null;
  proto: ConnLogEntry["proto"] = "unknown";
  /** Absolute ms; 0 = none (then the idle timeout applies). */
  deadline: number;
  lastActive: number;
  closed = false;
  private rec: OpenRecord | null = null;
  private logged = false;
  private lingering = false;

  constructor(
    readonly port: PortRuntime,
    sock: Socket<unknown>,
  ) {
    this.ctx = port.ctx;
    this.client = new Endpoint(sock);
    this.clientIp = normalizeClientIp(sock.remoteAddress);
    this.clientPort = sock.remotePort;
    this.auth = port.auth;
    this.overLimit = port.conns.size >= port.cfg.maxConnections;
    const now = this.ctx.sweeper.now;
    this.lastActive = now;
    this.deadline = now + this.ctx.timeouts.handshakeMs;
    port.counters.accepted++;
    if (!this.overLimit) {
      port.conns.add(this);
      port.counters.active++;
    } else port.overflow.add(this);
    this.ctx.sweeper.add(this);
    sock.setNoDelay(true);
  }

  onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActive = this.ctx.sweeper.now;
    if (this.lingering) return; // discard what a refused client still sends
    if (!this.handler) {
      if (chunk[0] === 0x05) {
        this.proto = "socks5";
        this.handler = new Socks5Session(this);
      } else if (chunk[0] === 0x04) {
        // SOCKS4/4a (optional in issue 5): refuse with its own "request rejected" reply.
        this.proto = "unknown";
        this.refuse("unsupported", Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]), 0x5b);
        return;
      } else {
        this.proto = "http";
        this.handler = new HttpSession(this);
      }
    }
    this.handler.onClientData(chunk);
  }

  onEnd(): void {
    if (this.closed) return;
    if (this.lingering || !this.handler) return this.close(this.rec ? "ok" : "client_error");
    this.handler.onClientEnd();
  }

  sweep(now: number): void {
    if (this.closed) return;
    this.handler?.poll?.();
    if (this.deadline !== 0) {
      if (now < this.deadline) return;
      if (this.lingering) return this.close();
      if (this.handler) this.handler.onHandshakeTimeout();
      else this.close("handshake_timeout");
      return;
    }
    if (now - this.lastActive >= this.ctx.timeouts.idleMs) this.close("idle_timeout");
  }

  /** Counts bytes sent to the target (client → target). */
  countUp(n: number): void {
    this.lastActive = this.ctx.sweeper.now;
    this.port.counters.bytesUp += n;
    if (this.userCounters) this.userCounters.bytesUp += n;
    if (this.rec) this.rec.up += n;
  }

  /** Counts bytes sent to the client from the target. */
  countDown(n: number): void {
    this.lastActive = this.ctx.sweeper.now;
    this.port.counters.bytesDown += n;
    if (this.userCounters) this.userCounters.bytesDown += n;
    if (this.rec) this.rec.down += n;
  }

  /** The authenticated user (null = whitelisted without credentials). */
  setUser(user: string | null): void {
    if (this.userCounters && this.user === user) return;
    if (this.userCounters) this.userCounters.active--;
    this.user = user;
    this.userCounters = this.port.counters.user(user);
    this.userCounters.active++;
  }

  /** Starts a log record for one proxied request / tunnel. */
  beginRecord(proto: ConnLogEntry["proto"], target: string | null): void {
    if (this.rec) this.endRecord("ok", this.rec.status);
    this.rec = { ts: new Date().toISOString(), startMs: performance.now(), proto, target, up: 0, down: 0, status: 0, connected: false };
  }

  /** The record reached its target. */
  markConnected(status: number): void {
    if (!this.rec || this.rec.connected) return;
    this.rec.connected = true;
    this.rec.status = status;
    this.port.counters.connections++;
    if (this.userCounters) this.userCounters.connections++;
  }

  setRecordStatus(status: number): void {
    if (this.rec) this.rec.status = status;
  }

  /** Writes the open record to the spool. */
  endRecord(result: ResultCode, status?: number): void {
    const r = this.rec;
    if (!r) return;
    this.rec = null;
    this.writeLog(r, result, status ?? r.status);
  }

  get hasRecord(): boolean {
    return this.rec !== null;
  }

  /**
   * Refuses: counts the reason, sends `response` (when the protocol has one), half-closes and
   * lingers briefly so the client reads the response instead of a reset.
   */
  refuse(result: ResultCode, response: Uint8Array | null, status: number): void {
    if (this.closed) return;
    this.port.counters.refuse(result);
    if (!this.rec) this.beginRecord(this.proto, null);
    this.endRecord(result, status);
    this.handler?.onClose();
    if (response) this.client.write(response);
    this.client.shutdownWrite();
    this.lingering = true;
    this.deadline = this.ctx.sweeper.now + this.ctx.lingerMs;
    // Read (and discard) until the client closes: a paused socket would never see its FIN.
    this.client.resume();
  }

  /** Closes everything once; logs the open record (or an empty one) with `result`. */
  close(result: ResultCode = "ok", abort = false): void {
    if (this.closed) return;
    this.handler?.poll?.(); // bytes the kernel moved since the last sweep belong in the record
    this.closed = true;
    if (this.rec) this.endRecord(result);
    else if (!this.logged) this.writeLog({ ts: new Date().toISOString(), startMs: performance.now(), proto: this.proto, target: null, up: 0, down: 0, status: 0, connected: false }, result, 0);
    this.handler?.onClose();
    if (abort) this.client.close(true);
    else this.client.end();
    this.ctx.sweeper.delete(this);
    if (!this.overLimit && this.port.conns.delete(this)) this.port.counters.active--;
    this.port.overflow.delete(this);
    if (this.userCounters) this.userCounters.active--;
    this.userCounters = null;
    this.port.onConnClosed();
  }

  /** The client socket closed under us. */
  onSocketClose(): void {
    this.client.closed = true;
    if (!this.closed) this.close(this.rec?.connected ? "ok" : "client_error");
  }

  private writeLog(r: OpenRecord, result: ResultCode, status: number): void {
    this.logged = true;
    this.ctx.spool?.write({
      ts: r.ts,
      port: this.port.cfg.port,
      portId: this.port.cfg.id,
      client: `${this.clientIp}:${this.clientPort}`,
      user: this.user,
      target: r.target,
      proto: r.proto,
      up: r.up,
      down: r.down,
      ms: Math.round(performance.now() - r.startMs),
      result,
      status,
    });
  }
}

/** A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; logs and whitelists want a.b.c.d. */
export function normalizeClientIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}
