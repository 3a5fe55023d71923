/**
 * The client side of bench/sse.ts, in its own process so that parsing 100 streams does not share the server's
 * event loop: opens N SSE connections, records (message id, Date.now()) per connection, prints "ready" once all
 * are connected and the JSON of receipts when stdin closes.
 *   bun bench/sse-clients.ts <url> <cookie> <clients>
 *
 * This is the measuring instrument, so it is kept cheap: plain HTTP/1.1 over Bun.connect (no fetch/stream
 * machinery per chunk), chunked transfer decoding by hand, and the `id:` lines found in the raw bytes with
 * Buffer.indexOf (a native search), never by decoding the row HTML. A slow instrument on a 2-core box inflates the
 * latency it measures. Every byte is still received and scanned.
 */
export {};

const [url, cookie, n] = [new URL(process.argv[2]!), process.argv[3]!, Number(process.argv[4] ?? 100)];
const receipts: number[][] = Array.from({ length: n }, () => []);
let connected = 0;
let dropped = 0;
let bytes = 0;
let ending = false;
const sockets: Array<{ end(): void }> = [];

const ID_LINE = Buffer.from("\nid: ");
const HEAD_END = Buffer.from("\r\n\r\n");

/** Finds complete `\nid: N\n` lines; returns the bytes to carry into the next piece. */
function scan(client: number, buf: Buffer, now: number): Buffer {
  let at = 0;
  let consumed = 0;
  for (;;) {
    const i = buf.indexOf(ID_LINE, at);
    if (i < 0) break;
    let j = i + ID_LINE.length;
    let id = 0;
    while (j < buf.length && buf[j]! >= 48 && buf[j]! <= 57) id = id * 10 + buf[j++]! - 48;
    if (j >= buf.length) break; // the number may continue in the next piece
    receipts[client]!.push(id, now);
    at = consumed = j;
  }
  return Buffer.from(buf.subarray(Math.max(consumed, buf.length - 24)));
}

/** HTTP/1.1 response reader: headers, then chunked (or identity) body pieces handed to `scan`. */
function reader(client: number) {
  let head: Buffer | null = Buffer.alloc(0);
  let chunked = false;
  let pending: Buffer = Buffer.alloc(0); // undecoded chunked framing
  let remaining = 0; // data bytes left in the current chunk
  let carry: Buffer = Buffer.alloc(0);
  const body = (piece: Buffer, now: number) => {
    carry = scan(client, carry.length ? Buffer.concat([carry, piece]) : piece, now);
  };
  return (data: Buffer) => {
    const now = Date.now();
    bytes += data.byteLength;
    let buf = data;
    if (head) {
      head = Buffer.concat([head, buf]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) return;
      const text = head.subarray(0, end).toString("latin1");
      if (!/^HTTP\/1\.1 200/.test(text)) throw new Error(`SSE: ${text.split("\r\n")[0]}`);
      chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
      buf = head.subarray(end + 4);
      head = null;
      if (++connected === n) console.log("ready");
    }
    if (!chunked) return body(buf, now);
    pending = pending.length ? Buffer.concat([pending, buf]) : buf;
    let p = 0;
    while (p < pending.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, pending.length - p);
        body(pending.subarray(p, p + take), now);
        p += take;
        remaining -= take;
        continue;
      }
      // "\r\n" after the previous chunk's data, then "<hex size>\r\n"
      if (pending[p] === 13 && pending[p + 1] === 10) {
        p += 2;
        continue;
      }
      const eol = pending.indexOf("\r\n", p);
      if (eol < 0) break;
      remaining = parseInt(pending.subarray(p, eol).toString("latin1"), 16);
      p = eol + 2;
      if (!remaining) break; // last chunk: the stream ended
    }
    pending = Buffer.from(pending.subarray(p));
  };
}

for (let i = 0; i < n; i++) {
  const onData = reader(i);
  const socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data: (_s, d) => onData(d as Buffer),
      close: () => {
        if (!ending) dropped++;
      },
      error: (_s, e) => console.error(String(e)),
    },
  });
  socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${cookie}\r\nAccept: text/event-stream\r\n\r\n`);
  sockets.push(socket);
}

const stdin = Bun.stdin.stream().getReader();
while (!(await stdin.read()).done) {
  // wait for the parent to close stdin
}
ending = true;
for (const s of sockets) s.end();
console.log(JSON.stringify({ receipts, dropped, bytes }));
process.exit(0);
