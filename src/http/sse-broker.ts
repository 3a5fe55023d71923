/**
 * Fans server-sent events out to many clients (PocketBase-style broker). Producers publish a pre-rendered frame
 * once per channel; every subscribed client gets the same bytes. Each client has a bounded queue: a client that
 * cannot keep up (its queue passes maxQueuedBytes) is dropped rather than slowing the others or growing memory,
 * and its browser reconnects with Last-Event-ID and gets a replay. Heartbeat comments keep idle connections
 * open through NAT and detect dead peers.
 */
import { formatSse, type SseMessage } from "./sse-frames.ts";

const encoder = new TextEncoder();

export interface FrameMeta {
  nodeId?: string | null;
  modemIds?: number[];
  kind?: string;
}

export interface SseClient {
  readonly id: number;
  readonly channels: ReadonlySet<string>;
  /** Sends directly to this client (replays). False when the client is gone or was dropped. */
  send(msg: SseMessage | Uint8Array): boolean;
  /** Holds live frames until release() (while a replay is being computed), then sends those passing `keep`. */
  hold(): void;
  release(keep?: (meta: FrameMeta | undefined, id: string | number | undefined) => boolean): void;
  close(): void;
  readonly closed: boolean;
}

export interface OpenOptions {
  channels: string[];
  /** Per-client filter on frame metadata (node filter, event-kind filter). */
  filter?: (meta: FrameMeta | undefined) => boolean;
  /** Sent first (e.g. `retry:`). */
  preamble?: SseMessage[];
  onClose?: () => void;
  /** Request abort signal: closes the client when the browser goes away. */
  signal?: AbortSignal;
}

export interface BrokerOptions {
  maxQueuedBytes?: number;
  heartbeatMs?: number;
  onDrop?: (client: SseClient) => void;
}

export interface BrokerStats {
  clients: number;
  dropped: number;
  published: number;
}

class Client implements SseClient {
  closed = false;
  private held: Array<{ bytes: Uint8Array; meta?: FrameMeta; id?: string | number }> | null = null;
  controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(
    readonly id: number,
    readonly channels: ReadonlySet<string>,
    readonly filter: OpenOptions["filter"],
    private broker: SseBroker,
    private maxQueuedBytes: number,
    private onClose?: () => void,
  ) {}

  /** Enqueues bytes; drops the client when its queue is over the bound. */
  enqueue(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    const backlog = -(this.controller.desiredSize ?? 0);
    if (backlog > this.maxQueuedBytes) {
      this.broker.drop(this);
      return false;
    }
    try {
      this.controller.enqueue(bytes);
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  deliver(bytes: Uint8Array, meta?: FrameMeta, id?: string | number): void {
    if (this.filter && !this.filter(meta)) return;
    if (this.held) this.held.push({ bytes, meta, id });
    else this.enqueue(bytes);
  }

  send(msg: SseMessage | Uint8Array): boolean {
    return this.enqueue(msg instanceof Uint8Array ? msg : encoder.encode(formatSse(msg)));
  }

  hold(): void {
    this.held ??= [];
  }

  release(keep?: (meta: FrameMeta | undefined, id: string | number | undefined) => boolean): void {
    const held = this.held ?? [];
    this.held = null;
    for (const f of held) if (!keep || keep(f.meta, f.id)) this.enqueue(f.bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.broker.detach(this);
    try {
      this.controller.close();
    } catch {
      // already closed or cancelled by the peer
    }
    this.onClose?.();
  }
}

export class SseBroker {
  private clients = new Set<Client>();
  private byChannel = new Map<string, Set<Client>>();
  private nextId = 1;
  private heartbeat?: ReturnType<typeof setInterval>;
  private stats = { dropped: 0, published: 0 };

  constructor(private opts: BrokerOptions = {}) {
    const every = opts.heartbeatMs ?? 15_000;
    if (every > 0) {
      this.heartbeat = setInterval(() => this.ping(), every);
      (this.heartbeat as { unref?: () => void }).unref?.();
    }
  }

  /** Opens a client; returns the stream to put in the Response. */
  open(opts: OpenOptions): { stream: ReadableStream<Uint8Array>; client: SseClient } {
    const client = new Client(this.nextId++, new Set(opts.channels), opts.filter, this, this.opts.maxQueuedBytes ?? 1 << 20, opts.onClose);
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client.controller = controller;
          // Something must be written at once: Bun sends the response head with the first chunk.
          controller.enqueue(encoder.encode(": connected\n\n"));
          for (const m of opts.preamble ?? []) controller.enqueue(encoder.encode(formatSse(m)));
        },
        cancel: () => client.close(),
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    this.clients.add(client);
    for (const ch of opts.channels) {
      let set = this.byChannel.get(ch);
      if (!set) this.byChannel.set(ch, (set = new Set()));
      set.add(client);
    }
    opts.signal?.addEventListener("abort", () => client.close(), { once: true });
    return { stream, client };
  }

  /** Sends one message to every client of the channel (filtered by meta). The frame is encoded once. */
  publish(channel: string, msg: SseMessage, meta?: FrameMeta): number {
    const set = this.byChannel.get(channel);
    this.stats.published++;
    if (!set || set.size === 0) return 0;
    const bytes = encoder.encode(formatSse(msg));
    for (const c of set) c.deliver(bytes, meta, msg.id);
    return set.size;
  }

  /** True when some client listens on the channel (producers skip rendering otherwise). */
  hasListeners(channel: string): boolean {
    return (this.byChannel.get(channel)?.size ?? 0) > 0;
  }

  channelNames(prefix = ""): string[] {
    return [...this.byChannel.keys()].filter((k) => k.startsWith(prefix) && (this.byChannel.get(k)?.size ?? 0) > 0);
  }

  /**
   * Closes every client of the channels starting with `prefix`. Their browsers reconnect with Last-Event-ID and
   * get a replay: the recovery when a live update could not be rendered.
   */
  resync(prefix: string): number {
    let n = 0;
    for (const c of [...this.clients]) {
      if ([...c.channels].some((ch) => ch.startsWith(prefix))) {
        c.close();
        n++;
      }
    }
    return n;
  }

  drop(client: SseClient): void {
    this.stats.dropped++;
    this.opts.onDrop?.(client);
    client.close();
  }

  detach(client: SseClient): void {
    this.clients.delete(client as Client);
    for (const ch of client.channels) {
      const set = this.byChannel.get(ch);
      set?.delete(client as Client);
      if (set && set.size === 0) this.byChannel.delete(ch);
    }
  }

  private ping(): void {
    const bytes = encoder.encode(": ping\n\n");
    for (const c of this.clients) c.enqueue(bytes);
  }

  getStats(): BrokerStats {
    return { clients: this.clients.size, ...this.stats };
  }

  /** Closes every client (shutdown). */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of [...this.clients]) c.close();
  }
}
