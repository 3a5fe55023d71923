/** A loopback TCP relay a test can cut (every connection dropped, new ones refused) and restore on the same port. */
import net from "node:net";

export interface TcpRelay {
  port: number;
  down(): void;
  up(): Promise<void>;
}

export async function tcpRelay(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = () => new Promise<void>((resolve, reject) => {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      for (const x of [client, upstream]) {
        sockets.add(x);
        x.on("close", () => sockets.delete(x));
      }
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      const addr = s.address();
      port = typeof addr === "object" && addr ? addr.port : port;
      server = s;
      resolve();
    });
  });
  await listen();
  return {
    get port() {
      return port;
    },
    down() {
      server?.close();
      server = null;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    up: listen,
  };
}
