/**
 * The HTTP side of a port: absolute-form requests (GET http://host/...) with keep-alive, several
 * requests per client connection and upstream reuse, and CONNECT tunnels. Bodies are streamed
 * with their framing tracked (Content-Length, chunked, close-delimited), never buffered whole.
 * Sets TCP_NODELAY on both sides: 3proxy without it spent 33-44 ms per keep-alive exchange in
 * Nagle + delayed ACK (3proxy.md §5).
 */
import { authenticate, parseBasicAuth } from "./auth.ts";
import type { ClientConn, ConnHandler } from "./client-conn.ts";
import { forward } from "./endpoint.ts";
import { BodyTracker } from "./http-chunked.ts";
import { parseRequestHead, parseResponseHead, type ResponseHead } from "./http-head.ts";
import { buildClientHead, buildUpstreamHead, planResponse, toRequest, type Request } from "./http-message.ts";
import { CONNECT_ESTABLISHED, errorResponse } from "./http-responses.ts";
import { HTTP_STATUS, type ResultCode } from "./results.ts";
import { formatTarget } from "./target.ts";
import { Tunnel } from "./tunnel.ts";
import type { SpliceResult } from "./splice-relay.ts";
import { SplicedBytes } from "./spliced-bytes.ts";
import { openUpstream, type Upstream, type UpstreamOwner } from "./upstream.ts";

const enum Phase {
  Head,
  Busy,
  Body,
  Wait,
  Done,
}

/** Client bytes held while a request is in flight before reading pauses. */
const HOLD_BYTES = 64 * 1024;

export class HttpSession implements ConnHandler, UpstreamOwner {
  private buf: Buffer | null = null;
  private phase = Phase.Head;
  private upstream: Upstream | null = null;
  private verifiedAuth: string | undefined;
  private verified = false;
  private req: Request | null = null;
  private reqBody: BodyTracker | null = null;
  private reqDone = false;
  private retried = false;
  private resBuf: Buffer | null = null;
  private resHead: ResponseHead | null = null;
  private resBody: BodyTracker | null = null;
  private resDone = false;
  private resKeepAlive = false;
  private clientKeepAlive = false;
  private clientEnded = false;
  /** A response body being moved by the splice relay. */
  private bodySplice: SplicedBytes | null = null;

  constructor(private conn: ClientConn) {}

  onClientData(chunk: Buffer): void {
    switch (this.phase) {
      case Phase.Head:
        this.append(chunk);
        this.processHead();
        return;
      case Phase.Body:
        this.forwardBody(chunk);
        return;
      case Phase.Done:
        return;
      default:
        // A pipelined request (or an early body) while we are busy: hold it, and stop reading
        // once a little is held. Not pausing at once spares two syscalls per keep-alive request.
        this.append(chunk);
        if (this.buf!.length > HOLD_BYTES) this.conn.client.pause();
    }
  }

  onClientEnd(): void {
    this.clientEnded = true;
    if (this.phase === Phase.Head) {
      const partial = this.buf !== null && this.buf.length > 0;
      return this.conn.close(partial ? "bad_request" : "client_error");
    }
    if (this.phase === Phase.Body) return this.conn.close("client_error", true);
    // Busy/Wait: the request is complete; answer it, then close.
  }

  isIdle(): boolean {
    return this.phase === Phase.Head && (this.buf === null || this.buf.length === 0);
  }

  onHandshakeTimeout(): void {
    this.fail("handshake_timeout", "request head not received in time");
  }

  onClose(): void {
    this.phase = Phase.Done;
    this.bodySplice?.abort();
    this.bodySplice = null;
    const u = this.upstream;
    this.upstream = null;
    u?.close();
  }

  // ---- request side ----

  private append(chunk: Buffer): void {
    this.buf = this.buf === null || this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  private processHead(): void {
    const buf = this.buf;
    if (buf === null || buf.length === 0) return;
    const parsed = parseRequestHead(buf);
    if (parsed.kind === "incomplete") {
      // Slowloris guard: a started head must complete within handshakeMs.
      if (this.conn.deadline === 0) this.conn.deadline = this.conn.ctx.sweeper.now + this.conn.ctx.timeouts.handshakeMs;
      return;
    }
    if (parsed.kind === "error") return this.fail(parsed.code, parsed.message);
    const rest = buf.subarray(parsed.length);
    this.buf = rest.length > 0 ? rest : null;
    this.conn.deadline = 0;
    const req = toRequest(parsed.head);
    if ("code" in req) return this.fail(req.code, req.message);
    this.req = req;
    this.phase = Phase.Busy;
    void this.authorize(req);
  }

  private async authorize(req: Request): Promise<void> {
    const conn = this.conn;
    const header = req.head.headers.get("proxy-authorization");
    if (!(this.verified && header === this.verifiedAuth)) {
      const creds = parseBasicAuth(header);
      const res =
        header !== undefined && creds === null
          ? ({ ok: false, reason: "auth_failed" } as const)
          : await authenticate(conn.auth, conn.ctx.verifier, conn.clientIp, creds);
      if (conn.closed) return;
      if (!res.ok) {
        conn.beginRecord(this.protoOf(req), formatTarget(req.target));
        const msg = res.reason === "auth_required" ? "proxy authentication required" : "invalid proxy credentials";
        return this.fail(res.reason, msg);
      }
      this.verified = true;
      this.verifiedAuth = header;
      conn.setUser(res.user);
    }
    conn.beginRecord(this.protoOf(req), formatTarget(req.target));
    const cfg = conn.port.cfg;
    if (cfg.state !== "online") {
      const why = cfg.reason ? `: ${cfg.reason}` : "";
      return this.fail("modem_not_online", `modem ${cfg.id} is ${cfg.state}${why}`);
    }
    if (conn.overLimit) return this.fail("over_limit", `port ${cfg.port} is at its connection limit (${cfg.maxConnections})`);
    if (conn.ctx.stopping) return this.fail("shutdown", "proxy is shutting down");
    await this.connect(req);
  }

  private protoOf(req: Request): "http" | "connect" {
    return req.path === null ? "connect" : "http";
  }

  private async connect(req: Request): Promise<void> {
    const conn = this.conn;
    const key = `${req.target.host}:${req.target.port}`;
    let up = this.upstream;
    if (up && (up.closed || up.key !== key || req.path === null)) {
      up.close();
      up = this.upstream = null;
    }
    if (!up) {
      const cfg = conn.port.cfg;
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
      if (!r.ok) return this.fail(r.result, r.message);
      up = this.upstream = r.upstream;
    }
    if (req.path === null) {
      conn.markConnected(200);
      conn.client.write(CONNECT_ESTABLISHED);
      const leftover = this.buf;
      this.buf = null;
      this.upstream = null;
      this.phase = Phase.Done;
      Tunnel.start(conn, up, leftover);
      return;
    }
    this.send(req, up);
  }

  private send(req: Request, up: Upstream): void {
    const conn = this.conn;
    up.requests++;
    this.resetResponse();
    this.reqDone = false;
    this.clientKeepAlive = req.keepAlive;
    const head = buildUpstreamHead(req);
    conn.markConnected(0);
    conn.countUp(head.length);
    up.endpoint.write(head);
    this.reqBody = new BodyTracker(req.framing);
    this.reqDone = this.reqBody.empty;
    this.phase = this.reqDone ? Phase.Wait : Phase.Body;
    const pending = this.buf;
    this.buf = null;
    if (pending) this.onClientData(pending);
    if (this.phase === Phase.Body) conn.client.resume();
  }

  private forwardBody(chunk: Buffer): void {
    const up = this.upstream;
    if (!up || !this.reqBody) return;
    let taken: { end: number; done: boolean };
    try {
      taken = this.reqBody.take(chunk);
    } catch (e) {
      return this.fail("bad_request", `bad chunked request body: ${(e as Error).message}`);
    }
    const end = taken.end;
    if (end > 0) {
      this.conn.countUp(end);
      forward(this.conn.client, up.endpoint, end === chunk.length ? chunk : chunk.subarray(0, end));
    }
    if (!taken.done) return;
    this.reqDone = true;
    this.phase = Phase.Wait;
    if (end < chunk.length) {
      this.append(chunk.subarray(end));
      if (this.buf!.length > HOLD_BYTES) this.conn.client.pause();
    }
    if (this.resDone) this.finishExchange();
  }

  // ---- response side ----

  private resetResponse(): void {
    this.resBuf = null;
    this.resHead = null;
    this.resDone = false;
    this.resBody = null;
  }

  onUpstreamData(u: Upstream, chunk: Buffer): void {
    // While a body is spliced Bun reads the paused upstream only on a reset; the worker reports it.
    if (u !== this.upstream || this.phase === Phase.Done || this.bodySplice) return;
    if (!this.req || this.resDone) {
      // Bytes nobody asked for: this upstream cannot be trusted for reuse.
      this.dropUpstream();
      return;
    }
    if (this.resHead === null) return this.onResponseHeadBytes(u, chunk);
    this.forwardResponse(chunk, 0, null);
  }

  private onResponseHeadBytes(u: Upstream, chunk: Buffer): void {
    const req = this.req!;
    let all: Buffer = this.resBuf === null ? chunk : Buffer.concat([this.resBuf, chunk]);
    this.resBuf = all;
    for (;;) {
      const parsed = parseResponseHead(all);
      if (parsed.kind === "incomplete") return;
      if (parsed.kind === "error") return this.fail("upstream_error", `bad response from ${u.key}: ${parsed.message}`);
      const head = parsed.head;
      const raw = all.subarray(0, parsed.length);
      const rest = all.subarray(parsed.length);
      this.resBuf = null;
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        // 100 Continue, 103 Early Hints: pass through, the final response follows.
        this.conn.countDown(raw.length);
        this.conn.client.write(raw);
        if (rest.length === 0) return;
        this.resBuf = all = rest;
        continue;
      }
      this.conn.setRecordStatus(head.status);
      if (head.status === 101) {
        this.conn.countDown(raw.length);
        this.conn.client.write(raw);
        if (rest.length > 0) {
          this.conn.countDown(rest.length);
          this.conn.client.write(rest);
        }
        const leftover = this.buf;
        this.buf = null;
        this.upstream = null;
        this.phase = Phase.Done;
        Tunnel.start(this.conn, u, leftover);
        return;
      }
      const plan = planResponse(req, head, this.clientKeepAlive && !this.clientEnded && !this.conn.ctx.stopping);
      if ("error" in plan) return this.fail("upstream_error", `bad response from ${u.key}: ${plan.error}`);
      this.resKeepAlive = plan.upstreamKeepAlive;
      this.clientKeepAlive = plan.clientKeepAlive;
      this.resHead = head;
      this.resBody = new BodyTracker(plan.framing);
      const newHead = plan.passThrough ? null : buildClientHead(head, this.clientKeepAlive, req.head.version);
      return this.forwardResponse(all, raw.length, newHead);
    }
  }

  /**
   * Forwards the body bytes of `buf` after `start` (as far as the framing says they belong to
   * this response) in one write, preceded by `head` or, when `head` is null, by buf[0..start].
   */
  private forwardResponse(buf: Buffer, start: number, head: Buffer | null): void {
    const up = this.upstream!;
    let taken: { end: number; done: boolean };
    try {
      taken = this.resBody!.take(buf, start);
    } catch {
      return this.conn.close("upstream_error", true); // broken chunking: let the client see it
    }
    const end = taken.end;
    let payload: Buffer;
    if (head) payload = end > 0 ? Buffer.concat([head, buf.subarray(start, start + end)]) : head;
    else payload = start + end === buf.length ? buf : buf.subarray(0, start + end);
    if (payload.length > 0) {
      this.conn.countDown(payload.length);
      forward(up.endpoint, this.conn.client, payload);
    }
    if (taken.done) return this.responseDone(start + end < buf.length);
    const body = this.resBody!;
    if (this.reqDone && body.lengthLeft >= this.conn.ctx.spliceBodyMin) this.spliceBody(up, body.lengthLeft);
  }

  /**
   * Hands the rest of a Content-Length body to the kernel relay (the bytes need no parsing, only
   * counting); the session gets the connection back when exactly `left` bytes have moved.
   */
  private spliceBody(up: Upstream, left: number): void {
    const relay = this.conn.ctx.splice;
    if (!relay) return;
    const client = this.conn.client;
    const toClient = client.peekQueued();
    const h = relay.start({
      client,
      upstream: up.endpoint,
      toUpstream: null,
      toClient,
      up: 0,
      down: left,
      halfClose: false,
      onDone: (r) => this.onBodySpliced(r, up, left, toClient),
    });
    if (!h) return;
    client.dropQueued();
    this.bodySplice = new SplicedBytes(this.conn, h);
  }

  private onBodySpliced(r: SpliceResult, up: Upstream, left: number, toClient: Uint8Array | null): void {
    this.poll();
    const moved = this.bodySplice?.down ?? 0;
    this.bodySplice = null;
    if (this.conn.closed || up !== this.upstream) return;
    if (r.how === "setup_failed") {
      if (toClient) this.conn.client.write(toClient);
      up.endpoint.resume();
      return;
    }
    if (r.how !== "limit" || moved !== left) {
      // Reset, or the origin closed before Content-Length: the client must see a broken body.
      this.conn.ctx.log.debug({ how: r.how, error: r.error, moved, left }, "spliced body ended early");
      return this.conn.close("upstream_error", true);
    }
    this.resBody!.skip(moved);
    up.endpoint.resume();
    this.responseDone(false);
  }

  /** Folds spliced body bytes into the counters (sweeper tick, and before the record closes). */
  poll(): void {
    this.bodySplice?.poll();
  }

  private responseDone(extraBytes: boolean): void {
    this.resDone = true;
    if (extraBytes || !this.resKeepAlive) this.dropUpstream();
    if (this.reqDone) this.finishExchange();
    else {
      // The origin answered before the request body ended (413, 401...): the rest of the body
      // cannot be told apart from a next request, so this connection ends here.
      this.clientKeepAlive = false;
      this.finishExchange();
    }
  }

  private finishExchange(): void {
    const conn = this.conn;
    conn.endRecord("ok");
    this.req = null;
    if (!this.clientKeepAlive || this.clientEnded) {
      this.phase = Phase.Done;
      return conn.close("ok");
    }
    this.phase = Phase.Head;
    this.retried = false;
    conn.deadline = 0;
    conn.lastActive = conn.ctx.sweeper.now;
    conn.client.resume();
    if (this.buf !== null && this.buf.length > 0) this.processHead();
  }

  private dropUpstream(): void {
    const u = this.upstream;
    this.upstream = null;
    u?.close();
  }

  onUpstreamEnd(u: Upstream): void {
    this.upstreamGone(u);
  }

  onUpstreamClose(u: Upstream): void {
    this.upstreamGone(u);
  }

  private upstreamGone(u: Upstream): void {
    if (u !== this.upstream || this.bodySplice) return;
    this.upstream = null;
    u.close();
    if (this.phase === Phase.Done) return;
    const req = this.req;
    if (!req || this.resDone) return; // an idle keep-alive upstream went away: fine
    if (this.resHead !== null) {
      if (this.resBody?.framing.kind === "close") {
        this.resDone = true;
        this.clientKeepAlive = false;
        return this.finishExchange();
      }
      return this.conn.close("upstream_error", true); // truncated body: let the client see it
    }
    if (this.resBuf === null && u.requests > 1 && !this.retried && this.reqDone && req.framing.kind === "none") {
      // A reused connection the origin closed just as we sent: the classic keep-alive race.
      this.retried = true;
      this.phase = Phase.Busy;
      void this.connect(req);
      return;
    }
    this.fail("upstream_error", `${u.key} closed the connection without a response`);
  }

  // ---- errors ----

  /** Answers with the status for `code` and closes (after the client has read it). */
  private fail(code: ResultCode, message: string): void {
    if (this.phase === Phase.Done && this.conn.closed) return;
    const sentHead = this.resHead !== null;
    this.phase = Phase.Done;
    const status = HTTP_STATUS[code];
    if (sentHead) return this.conn.close(code, true);
    this.conn.ctx.log.debug({ port: this.conn.port.cfg.port, code, message }, "http refused");
    this.conn.refuse(code, errorResponse(status, message), status);
  }
}
