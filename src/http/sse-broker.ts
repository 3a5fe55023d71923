/**
 * Fans server-sent events out to many clients (PocketBase-style broker). Producers publish a pre-rendered frame
 * once per channel; every subscribed client gets the same bytes, written straight into its socket buffer (Bun's
 * direct streams; the accepted sockets have TCP_NODELAY set by Bun, checked with strace). Frames for one client
 * published in one synchronous run (a drain of the event stream publishes one frame per event to the events page;
 * a batch can touch several channels) are coalesced into one write and one flush, queued as a microtask: a burst
 * costs one syscall per client instead of one per frame, and the bytes leave before the event loop polls other
 * I/O. Each client's unsent backlog is bounded: a client that cannot keep up (backlog past
 * maxQueuedBytes) is dropped rather than slowing the others or growing memory, and its browser reconnects with
 * Last-Event-ID and gets a replay. Heartbeat comments keep idle connections open through NAT and detect dead peers.
 */
import { formatSse, type SseMessage } from "./sse-frames.ts";

const encoder = new TextEncoder();

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

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
  /** Holds live frames until release() (while a replay is being computed). */
  hold(): void;
  /**
   * Sends the held frames newer than `floor` and, from now on, skips live frames with an id at or below it: a
   * replay covered those, and a late frame of an older batch must not overwrite newer state.
   */
  release(floor: number): void;
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
  /** Socket writes (one per client per event-loop turn with frames, however many frames it had). */
  writes: number;
}

/** Bun's direct stream controller: writes go straight to the socket's buffer, no per-chunk queue. */
interface DirectController {
  write(data: Uint8Array): number | Promise<number>;
  flush(): number | Promise<number>;
  close(): void;
}

class Client implements SseClient {
  closed = false;
  private held: Array<{ bytes: Uint8Array; meta?: FrameMeta; id?: string | number }> | null = null;
  private floor = -Infinity;
  private controller: DirectController | null = null;
  /** Bytes written before the response started (no controller yet). */
  private early: Uint8Array[] = [];
  /** Bytes written while the socket was not draining (a write or flush returned a promise). */
  private backlog = 0;
  /** Frames of this event-loop turn, written together by the broker's next coalesced flush. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private draining: Promise<unknown> | null = null;
  private finish?: () => void;
  readonly stream: ReadableStream<Uint8Array>;

  constructor(
    readonly id: number,
    readonly channels: ReadonlySet<string>,
    readonly filter: OpenOptions["filter"],
    private broker: SseBroker,
    private maxQueuedBytes: number,
    initial: Uint8Array[],
    private onClose?: () => void,
  ) {
    this.early = initial;
    this.backlog = initial.reduce((n, b) => n + b.byteLength, 0);
    // A direct stream (Bun): the server calls pull() once and we write as events come; the returned promise keeps
    // the response open until close(). Much cheaper per client than a queued ReadableStream.
    this.stream = new ReadableStream({
      type: "direct",
      pull: (controller: DirectController) => {
        if (this.closed) return;
        this.controller = controller;
        const early = this.early;
        this.early = [];
        this.backlog = 0;
        if (early.length) this.write(early.length === 1 ? early[0]! : concat(early, early.reduce((n, b) => n + b.byteLength, 0)));
        return new Promise<void>((resolve) => (this.finish = resolve));
      },
      cancel: () => this.close(),
    } as unknown as UnderlyingDefaultSource<Uint8Array>);
  }

  private write(bytes: Uint8Array): void {
    const c = this.controller!;
    this.broker.countWrite();
    const w = c.write(bytes);
    const f = c.flush();
    if (w instanceof Promise || f instanceof Promise) {
      this.backlog += bytes.byteLength;
      const p = (f instanceof Promise ? f : w) as Promise<unknown>;
      this.draining = p;
      p.then(
        () => {
          if (this.draining === p) this.backlog = 0;
        },
        () => this.close(),
      );
    }
  }

  /** Queues bytes for this turn's coalesced write; drops the client when its unsent backlog passes the bound. */
  enqueue(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.backlog + this.pendingBytes + bytes.byteLength > this.maxQueuedBytes) {
      this.broker.drop(this);
      return false;
    }
    if (!this.controller) {
      this.early.push(bytes);
      this.backlog += bytes.byteLength;
      return true;
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    if (this.pending.length === 1) this.broker.markPending(this);
    return true;
  }

  /** Writes what this turn queued: one write and one flush. */
  writePending(): void {
    if (this.closed || !this.pending.length) return;
    const parts = this.pending;
    const data = parts.length === 1 ? parts[0]! : concat(parts, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.write(data);
    } catch {
      this.close();
    }
  }

  deliver(bytes: Uint8Array, meta?: FrameMeta, id?: string | number): void {
    if (this.filter && !this.filter(meta)) return;
    if (id !== undefined && Number(id) <= this.floor) return;
    if (this.held) this.held.push({ bytes, meta, id });
    else this.enqueue(bytes);
  }

  send(msg: SseMessage | Uint8Array): boolean {
    return this.enqueue(msg instanceof Uint8Array ? msg : encoder.encode(formatSse(msg)));
  }

  hold(): void {
    this.held ??= [];
  }

  release(floor: number): void {
    const held = this.held ?? [];
    this.held = null;
    this.floor = Math.max(this.floor, floor);
    for (const f of held) if (f.id === undefined || Number(f.id) > this.floor) this.enqueue(f.bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.broker.detach(this);
    try {
      this.controller?.close();
    } catch {
      // already closed by the peer
    }
    this.finish?.();
    this.onClose?.();
  }
}

export class SseBroker {
  private clients = new Set<Client>();
  private byChannel = new Map<string, Set<Client>>();
  private nextId = 1;
  private heartbeat?: ReturnType<typeof setInterval>;
  private stats = { dropped: 0, published: 0, writes: 0 };
  private pendingClients = new Set<Client>();
  private writeScheduled = false;
  private openWatchers = new Set<(channels: string[]) => void>();

  constructor(private opts: BrokerOptions = {}) {
    const every = opts.heartbeatMs ?? 15_000;
    if (every > 0) {
      this.heartbeat = setInterval(() => this.ping(), every);
      (this.heartbeat as { unref?: () => void }).unref?.();
    }
  }

  /** Opens a client; returns the stream to put in the Response. */
  open(opts: OpenOptions): { stream: ReadableStream<Uint8Array>; client: SseClient } {
    // Something must be written at once: Bun sends the response head with the first chunk.
    const initial = [encoder.encode(": connected\n\n"), ...(opts.preamble ?? []).map((m) => encoder.encode(formatSse(m)))];
    const client = new Client(this.nextId++, new Set(opts.channels), opts.filter, this, this.opts.maxQueuedBytes ?? 1 << 20, initial, opts.onClose);
    this.clients.add(client);
    for (const ch of opts.channels) {
      let set = this.byChannel.get(ch);
      if (!set) this.byChannel.set(ch, (set = new Set()));
      set.add(client);
    }
    opts.signal?.addEventListener("abort", () => client.close(), { once: true });
    for (const w of this.openWatchers) {
      try {
        w(opts.channels);
      } catch {
        // a watcher's failure is its own (it only warms caches)
      }
    }
    return { stream: client.stream, client };
  }

  /** Calls `fn` with the channels of every client that opens from now on (producers warm up); returns an unwatch. */
  watchOpen(fn: (channels: string[]) => void): () => void {
    this.openWatchers.add(fn);
    return () => this.openWatchers.delete(fn);
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

  /**
   * A client has frames queued: write them all (every client) once the current synchronous run of publishing is
   * done. A microtask, not setImmediate: the next turn would first poll and run every other ready I/O callback.
   */
  markPending(client: Client): void {
    this.pendingClients.add(client);
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    queueMicrotask(() => this.writePending());
  }

  private writePending(): void {
    this.writeScheduled = false;
    const clients = this.pendingClients;
    this.pendingClients = new Set();
    for (const c of clients) c.writePending();
  }

  countWrite(): void {
    this.stats.writes++;
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
