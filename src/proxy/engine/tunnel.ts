/**
 * An established byte tunnel (HTTP CONNECT, SOCKS5 CONNECT, HTTP 101): bytes both ways with
 * backpressure, half-close passed through, idle timeout from the sweeper.
 */
import type { ClientConn, ConnHandler } from "./client-conn.ts";
import { forward } from "./endpoint.ts";
import type { Upstream, UpstreamOwner } from "./upstream.ts";

export class Tunnel implements ConnHandler, UpstreamOwner {
  private clientEnded = false;
  private upstreamEnded = false;

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
    if (leftover && leftover.length > 0) t.onClientData(leftover as Buffer);
    conn.client.resume();
    return t;
  }

  onClientData(chunk: Buffer): void {
    this.conn.countUp(chunk.length);
    forward(this.conn.client, this.up.endpoint, chunk);
  }

  onUpstreamData(_u: Upstream, chunk: Buffer): void {
    this.conn.countDown(chunk.length);
    forward(this.up.endpoint, this.conn.client, chunk);
  }

  onClientEnd(): void {
    this.clientEnded = true;
    this.up.endpoint.shutdownWrite();
    if (this.upstreamEnded) this.conn.close("ok");
  }

  onUpstreamEnd(): void {
    this.upstreamEnded = true;
    this.conn.client.shutdownWrite();
    if (this.clientEnded) this.conn.close("ok");
  }

  onUpstreamClose(): void {
    this.conn.close("ok");
  }

  onHandshakeTimeout(): void {
    // The tunnel has no handshake deadline; idle applies.
  }

  onClose(): void {
    this.up.endpoint.end();
    this.up.closed = true;
  }
}
