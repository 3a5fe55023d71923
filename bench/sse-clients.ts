/**
 * The client side of bench/sse.ts, in its own process so that parsing 100 streams does not share the server's
 * event loop: opens N SSE connections, records (message id, Date.now()) per dispatched message, prints "ready"
 * once all are connected and the JSON of receipts when stdin closes.
 *   bun bench/sse-clients.ts <url> <cookie> <clients>
 *
 * This is the measuring instrument, so it is kept cheap: plain HTTP/1.1 over Bun.connect (no fetch/stream
 * machinery per chunk), chunked transfer decoding by hand, and an event-stream parser over the raw bytes (the
 * WHATWG rules: lines end in CR, LF or CRLF, `field: value`, comments, a blank line dispatches the message, the id
 * is the message's last `id:`), which never decodes the row HTML to a string. A message counts as received when
 * its dispatching blank line arrives, as in a browser. Every message must carry data that starts with an htmx
 * partial and ids must increase: anything else is counted as `malformed`. A slow instrument on a 2-core box
 * inflates the latency it measures.
 */
export {};

const [url, cookie, n] = [new URL(process.argv[2]!), process.argv[3]!, Number(process.argv[4] ?? 100)];
const receipts: number[][] = Array.from({ length: n }, () => []);
let connected = 0;
let dropped = 0;
let bytes = 0;
let messages = 0;
let malformed = 0;
let ending = false;
const sockets: Array<{ end(): void }> = [];

const HEAD_END = Buffer.from("\r\n\r\n");
const PARTIAL = Buffer.from("<hx-partial ");
const CR = 13, LF = 10, COLON = 58, SPACE = 32;

/** One connection's event-stream parser state. */
function sseParser(client: number) {
  let carry: Buffer = Buffer.alloc(0); // an incomplete line
  let skipLf = false; // the previous piece ended in CR: a leading LF belongs to it
  let hasData = false;
  let dataOk = true;
  let id = -1; // this message's id field, -1: none
  let lastId = 0;

  const line = (buf: Buffer, s: number, e: number, now: number) => {
    if (s === e) {
      // blank line: dispatch
      if (hasData || id >= 0) {
        messages++;
        if (!hasData || !dataOk || id <= lastId) malformed++;
        if (id >= 0) {
          receipts[client]!.push(id, now);
          lastId = id;
        }
      }
      hasData = false;
      dataOk = true;
      id = -1;
      return;
    }
    if (buf[s] === COLON) return; // comment
    let c = s;
    while (c < e && buf[c] !== COLON) c++;
    const name = buf.toString("latin1", s, c);
    let v = c + 1;
    if (v < e && buf[v] === SPACE) v++;
    if (c >= e) v = e; // a field with no colon has an empty value
    if (name === "data") {
      if (!hasData && (e - v < PARTIAL.length || buf.compare(PARTIAL, 0, PARTIAL.length, v, v + PARTIAL.length) !== 0)) dataOk = false;
      hasData = true;
    } else if (name === "id") {
      let x = 0;
      for (let j = v; j < e; j++) {
        const d = buf[j]! - 48;
        if (d < 0 || d > 9) return void (malformed++);
        x = x * 10 + d;
      }
      id = x;
    }
    // event:, retry: and unknown fields do not concern the measurement
  };

  return (piece: Buffer, now: number) => {
    const buf = carry.length ? Buffer.concat([carry, piece]) : piece;
    let s = 0;
    if (skipLf && buf[0] === LF) s = 1;
    skipLf = false;
    // CR is rare (our server ends lines in LF): search for it once per piece, again only after passing it
    let cr = buf.indexOf(CR, s);
    for (;;) {
      const lf = buf.indexOf(LF, s);
      if (cr >= 0 && cr < s) cr = buf.indexOf(CR, s);
      if (lf < 0 && cr < 0) break;
      let e: number, next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        e = cr;
        if (cr + 1 === buf.length) {
          skipLf = true;
          next = cr + 1;
        } else next = buf[cr + 1] === LF ? cr + 2 : cr + 1;
      } else {
        e = lf;
        next = lf + 1;
      }
      line(buf, s, e, now);
      s = next;
    }
    carry = s >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(s));
  };
}

/** HTTP/1.1 response reader: headers, then chunked (or identity) body pieces handed to the event-stream parser. */
function reader(client: number) {
  let head: Buffer | null = Buffer.alloc(0);
  let chunked = false;
  let pending: Buffer = Buffer.alloc(0); // undecoded chunked framing
  let remaining = 0; // data bytes left in the current chunk
  const body = sseParser(client);
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
console.log(JSON.stringify({ receipts, dropped, bytes, messages, malformed }));
process.exit(0);
