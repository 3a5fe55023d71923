/**
 * Raw-socket pieces for the splice relay tests: an origin that hashes everything it receives
 * until FIN and then answers with its own random payload, and a client that opens an HTTP
 * CONNECT or SOCKS5 tunnel and does the same from its side.
 */
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export interface SinkSource {
  port: number;
  /** What each accepted connection received before its FIN (hex sha256 and length), and from where. */
  received: { hash: string; length: number; peer: string }[];
  stop(): void;
}

/**
 * Per connection: reads until the client's FIN (half-close), then sends `reply` and FIN.
 * With `delayMs` it first waits, so that the tunnel sits idle with one side already closed.
 */
export function startSinkSource(reply: Uint8Array, delayMs = 0): SinkSource {
  const received: SinkSource["received"] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash("sha256");
    let n = 0;
    s.on("data", (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    s.on("end", () => {
      received.push({ hash: h.digest("hex"), length: n, peer: s.remoteAddress ?? "" });
      setTimeout(() => s.end(reply), delayMs);
    });
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  return {
    get port() {
      return (server.address() as net.AddressInfo).port;
    },
    received,
    stop: () => server.close(),
  };
}

export type TunnelKind = "http" | "socks5";

export interface TunnelResult {
  /** Everything after the handshake reply, until the proxy's FIN. */
  body: Buffer;
  /** The socket saw FIN (end) rather than only an error. */
  ended: boolean;
}

/**
 * Opens a tunnel to 127.0.0.1:`target`, sends `payload` (the first bytes in the same packet as
 * the handshake for HTTP, to exercise the leftover path), half-closes, reads until the end.
 */
export function tunnelExchange(
  proxyPort: number,
  kind: TunnelKind,
  target: number,
  payload: Uint8Array,
  creds = { user: "alice", pass: "pw" },
): Promise<TunnelResult> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port: proxyPort, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let stage = 0;
    let ended = false;
    const auth = "Basic " + Buffer.from(`${creds.user}:${creds.pass}`).toString("base64");
    const early = Buffer.from(payload.subarray(0, 1000));
    const sendRest = (from: number) => {
      s.write(payload.subarray(from));
      s.end();
    };
    s.on("connect", () => {
      if (kind === "http") {
        s.write(Buffer.concat([Buffer.from(`CONNECT 127.0.0.1:${target} HTTP/1.1\r\nProxy-Authorization: ${auth}\r\n\r\n`), early]));
      } else {
        s.write(Buffer.from([5, 1, 2]));
      }
    });
    s.on("data", (d: Buffer) => {
      if (stage === 9) return void chunks.push(d);
      buf = Buffer.concat([buf, d]);
      if (kind === "http") {
        const i = buf.indexOf("\r\n\r\n");
        if (i < 0) return;
        if (!buf.subarray(0, 12).toString().startsWith("HTTP/1.1 200")) return reject(new Error(buf.toString()));
        stage = 9;
        if (buf.length > i + 4) chunks.push(buf.subarray(i + 4));
        return sendRest(early.length);
      }
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2);
        stage = 1;
        s.write(Buffer.from([1, creds.user.length, ...Buffer.from(creds.user), creds.pass.length, ...Buffer.from(creds.pass)]));
      }
      if (stage === 1 && buf.length >= 2) {
        if (buf[1] !== 0) return reject(new Error("socks auth failed"));
        buf = buf.subarray(2);
        stage = 2;
        s.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, target >> 8, target & 255]));
      }
      if (stage === 2 && buf.length >= 10) {
        if (buf[1] !== 0) return reject(new Error(`socks reply ${buf[1]}`));
        stage = 9;
        if (buf.length > 10) chunks.push(buf.subarray(10));
        sendRest(0);
      }
    });
    s.on("end", () => {
      ended = true;
      s.end();
    });
    s.on("close", () => resolve({ body: Buffer.concat(chunks), ended }));
    s.on("error", () => {});
  });
}

export const randomPayload = (n: number) => randomBytes(n);
