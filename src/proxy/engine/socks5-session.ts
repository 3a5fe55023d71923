/**
 * The SOCKS5 side of a port (RFC 1928 CONNECT, RFC 1929 user/password). No-auth is offered only
 * to whitelisted clients; everyone else must authenticate (method 0xFF when they cannot).
 * A modem that is not online answers 0x03 (network unreachable) and never falls back.
 */
import { authenticate } from "./auth.ts";
import type { ClientConn, ConnHandler } from "./client-conn.ts";
import { SOCKS_REPLY, socksReplyFor, type ResultCode } from "./results.ts";
import {
  encodeReply,
  parseGreeting,
  parseRequest,
  parseUserPass,
  SOCKS_CMD_CONNECT,
  SOCKS_METHOD,
  type SocksRequest,
} from "./socks5-parse.ts";
import { formatTarget } from "./target.ts";
import { Tunnel } from "./tunnel.ts";
import { openUpstream, type Upstream, type UpstreamOwner } from "./upstream.ts";

const enum S {
  Greeting,
  Auth,
  Request,
  Busy,
  Done,
}

/** No SOCKS5 handshake message is longer than 513 bytes (RFC 1929 auth). */
const MAX_BUFFER = 1024;

export class Socks5Session implements ConnHandler, UpstreamOwner {
  private buf: Buffer | null = null;
  private s = S.Greeting;

  constructor(private conn: ClientConn) {}

  onClientData(chunk: Buffer): void {
    if (this.s === S.Done) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.buf.length > MAX_BUFFER) return this.fail("bad_request", null, "handshake too long");
    this.process();
  }

  private process(): void {
    while (this.buf !== null && this.buf.length > 0 && this.s !== S.Busy && this.s !== S.Done) {
      if (this.s === S.Greeting) {
        const g = parseGreeting(this.buf);
        if (g.kind === "incomplete") return;
        if (g.kind === "error") return this.fail("bad_request", null, g.message);
        this.consume(g.length);
        const m = g.value.methods;
        const whitelisted = this.conn.auth.isWhitelisted(this.conn.clientIp);
        if (whitelisted && m.includes(SOCKS_METHOD.noAuth)) {
          this.conn.setUser(null);
          this.conn.client.write(Buffer.from([5, SOCKS_METHOD.noAuth]));
          this.s = S.Request;
        } else if (m.includes(SOCKS_METHOD.userPass)) {
          this.conn.client.write(Buffer.from([5, SOCKS_METHOD.userPass]));
          this.s = S.Auth;
        } else {
          return this.fail("auth_required", Buffer.from([5, SOCKS_METHOD.noAcceptable]), "no acceptable method");
        }
      } else if (this.s === S.Auth) {
        const a = parseUserPass(this.buf);
        if (a.kind === "incomplete") return;
        if (a.kind === "error") return this.fail("bad_request", Buffer.from([1, 1]), a.message);
        this.consume(a.length);
        this.s = S.Busy;
        this.conn.client.pause();
        void this.checkPassword(a.value.user, a.value.pass);
        return;
      } else if (this.s === S.Request) {
        const r = parseRequest(this.buf);
        if (r.kind === "incomplete") return;
        if (r.kind === "error") return this.fail("bad_target", encodeReply(r.reply), r.message);
        this.consume(r.length);
        this.s = S.Busy;
        this.conn.client.pause();
        void this.connect(r.value);
        return;
      }
    }
  }

  private consume(n: number): void {
    const rest = this.buf!.subarray(n);
    this.buf = rest.length > 0 ? rest : null;
  }

  private async checkPassword(user: string, pass: string): Promise<void> {
    const conn = this.conn;
    const res = await authenticate(conn.auth, conn.ctx.verifier, conn.clientIp, { user, pass });
    if (conn.closed) return;
    if (!res.ok) return this.fail("auth_failed", Buffer.from([1, 1]), "invalid credentials");
    conn.setUser(res.user);
    conn.client.write(Buffer.from([1, 0]));
    this.s = S.Request;
    conn.client.resume();
    this.process();
  }

  private async connect(req: SocksRequest): Promise<void> {
    const conn = this.conn;
    conn.beginRecord("socks5", formatTarget(req.target));
    if (req.cmd !== SOCKS_CMD_CONNECT) {
      return this.fail("unsupported", encodeReply(SOCKS_REPLY.commandNotSupported), `command ${req.cmd}`);
    }
    const cfg = conn.port.cfg;
    if (cfg.state !== "online") return this.refuseWith("modem_not_online", `modem ${cfg.id} is ${cfg.state}`);
    if (conn.overLimit) return this.refuseWith("over_limit", "connection limit");
    if (conn.ctx.stopping) return this.refuseWith("shutdown", "shutting down");
    conn.deadline = 0; // DNS and connect have their own timeouts
    const r = await openUpstream({
      target: req.target,
      outAddress: cfg.outAddress,
      resolver: conn.port.resolver,
      targets: conn.ctx.targets,
      connectMs: conn.ctx.timeouts.connectMs,
      owner: this,
    });
    if (conn.closed) {
      if (r.ok) r.upstream.close();
      return;
    }
    if (!r.ok) return this.refuseWith(r.result, r.message);
    const up = r.upstream;
    conn.markConnected(0);
    conn.client.write(encodeReply(SOCKS_REPLY.succeeded, { address: up.sock.localAddress, port: up.sock.localPort }));
    const leftover = this.buf;
    this.buf = null;
    this.s = S.Done;
    Tunnel.start(conn, up, leftover);
  }

  private refuseWith(code: ResultCode, message: string): void {
    this.fail(code, encodeReply(socksReplyFor(code)), message);
  }

  private fail(code: ResultCode, reply: Uint8Array | null, message: string): void {
    if (this.s === S.Done) return;
    this.s = S.Done;
    this.conn.ctx.log.debug({ port: this.conn.port.cfg.port, code, message }, "socks5 refused");
    const status = reply && reply.length >= 2 ? reply[1] : 0;
    this.conn.refuse(code, reply, status);
  }

  onClientEnd(): void {
    if (this.s !== S.Done) this.conn.close(this.s === S.Busy ? "client_error" : "bad_request");
  }

  onHandshakeTimeout(): void {
    if (this.s === S.Busy && this.conn.deadline === 0) return;
    this.fail("handshake_timeout", null, "handshake not completed in time");
  }

  onClose(): void {
    this.s = S.Done;
  }

  // Events of the upstream between connect and Tunnel.start (none expected: it is synchronous).
  onUpstreamData(): void {}
  onUpstreamEnd(u: Upstream): void {
    u.close();
  }
  onUpstreamClose(): void {}
}
