/**
 * An established byte tunnel (HTTP CONNECT, SOCKS5 CONNECT, HTTP 101): bytes both ways with
 * backpressure, half-close passed through, idle timeout from the sweeper.
 *
 * The bytes move in the kernel (splice-relay.ts) when the engine has a splice relay, once the
 * tunnel has carried spliceTunnelMin bytes in JS: the handover (two dups, a message to the worker
 * and its pipe setup) is on the critical path of the next byte, which short tunnels should not
 * pay for. The JS relay below stays for them and for when the relay is off or fails. Counters, the connection log
 * and the idle timeout work the same either way: spliced byte counts are folded in by poll().
 */
import type { ClientConn, ConnHandler } from "./client-conn.ts";
import { forward } from "./endpoint.ts";
import type { SpliceResult } from "./splice-relay.ts";
import { SplicedBytes } from "./spliced-bytes.ts";
import type { Upstream, UpstreamOwner } from "./upstream.ts";

export class Tunnel implements ConnHandler, UpstreamOwner {
  private clientEnded = false;
  private upstreamEnded = false;
  private spliced: SplicedBytes | null = null;
  /** Bytes relayed in JS so far; past ctx.spliceTunnelMin the tunnel moves to the kernel. */
  private jsBytes = 0;

  private constructor(
    private conn: ClientConn,
    private up: Upstream,
  ) {}

  /**
   * Takes over `conn` and `up`. `leftover` are client bytes that arrived after the handshake
   * (a TLS ClientHello sent optimistically with CONNECT) and go to the target first.
   */
  static start(conn: ClientConn, up: Upstream, leftover: Uint8Array | null): Tunnel {
    const t = new Tunnel(conn, up);
    conn.handler = t;
    up.owner = t;
    conn.deadline = 0;
    const rest = leftover && leftover.length > 0 ? leftover : null;
    if (conn.ctx.spliceTunnelMin === 0 && t.trySplice(rest)) return t;
    if (rest) t.onClientData(rest as Buffer);
    conn.client.resume();
    return t;
  }

  /** Hands the tunnel to the kernel once it has shown it carries more than a few exchanges. */
  private maybeSplice(n: number): void {
    this.jsBytes += n;
    if (this.jsBytes < this.conn.ctx.spliceTunnelMin || this.clientEnded || this.upstreamEnded) return;
    if (this.conn.client.isEnding || this.up.endpoint.isEnding) return;
    this.trySplice(null);
  }

  private trySplice(leftover: Uint8Array | null): boolean {
    const relay = this.conn.ctx.splice;
    if (!relay || relay.broken || this.up.closed || this.conn.client.closed) return false;
    // Order to the target: what the upstream endpoint still queues, then the leftover.
    const queuedUp = this.up.endpoint.peekQueued();
    const toUpstream = queuedUp && leftover ? Buffer.concat([queuedUp, leftover]) : (queuedUp ?? leftover);
    const toClient = this.conn.client.peekQueued();
    const h = relay.start({
      client: this.conn.client,
      upstream: this.up.endpoint,
      toUpstream,
      toClient,
      up: -1,
      down: -1,
      halfClose: true,
      onDone: (r) => this.onSpliceDone(r, toUpstream, toClient),
    });
    if (!h) return false;
    this.spliced = new SplicedBytes(this.conn, h);
    this.up.endpoint.dropQueued();
    this.conn.client.dropQueued();
    if (leftover) this.conn.countUp(leftover.length);
    return true;
  }

  private onSpliceDone(r: SpliceResult, toUpstream: Uint8Array | null, toClient: Uint8Array | null): void {
    this.poll();
    this.spliced = null;
    if (r.how === "setup_failed") {
      // Nothing was read or written: the JS relay carries on from the same point.
      this.conn.ctx.log.warn({ error: r.error }, "splice setup failed; tunnel relayed in JS");
      if (toUpstream) this.up.endpoint.write(toUpstream);
      if (toClient) this.conn.client.write(toClient);
      this.conn.client.resume();
      this.up.endpoint.resume();
      return;
    }
    if (r.how === "error") this.conn.ctx.log.debug({ error: r.error }, "spliced tunnel failed");
    this.conn.close("ok", r.how === "error");
  }

  /** Folds bytes the kernel moved into the counters (and so the idle clock). */
  poll(): void {
    this.spliced?.poll();
  }

  onClientData(chunk: Buffer): void {
    if (this.spliced) return; // Bun reads a paused socket only on a reset; the worker sees it too
    this.conn.countUp(chunk.length);
    forward(this.conn.client, this.up.endpoint, chunk);
    this.maybeSplice(chunk.length);
  }

  onUpstreamData(_u: Upstream, chunk: Buffer): void {
    if (this.spliced) return;
    this.conn.countDown(chunk.length);
    forward(this.up.endpoint, this.conn.client, chunk);
    this.maybeSplice(chunk.length);
  }

  onClientEnd(): void {
    if (this.spliced) return;
    this.clientEnded = true;
    this.up.endpoint.shutdownWrite();
    if (this.upstreamEnded) this.conn.close("ok");
  }

  onUpstreamEnd(): void {
    if (this.spliced) return;
    this.upstreamEnded = true;
    this.conn.client.shutdownWrite();
    if (this.clientEnded) this.conn.close("ok");
  }

  onUpstreamClose(): void {
    // A reset closes Bun's fd; the worker holds its own and reports the error itself.
    if (this.spliced) return;
    this.conn.close("ok");
  }

  onHandshakeTimeout(): void {
    // The tunnel has no handshake deadline; idle applies.
  }

  onClose(): void {
    this.spliced?.abort();
    this.spliced = null;
    this.up.endpoint.end();
    this.up.closed = true;
  }
}
