/**
 * A one-shot DNS client for tests inside a network namespace:
 *   bun query-child.ts <relay address> <name> <timeout ms> [garbage count]
 * Prints one JSON line: { rcode, addresses, ms } or { timeout: true, ms }. Garbage datagrams go out first.
 */
import dgram from "node:dgram";
import { decodeDnsResponse, encodeDnsQuery } from "../../../src/proxy/engine/dns-message.ts";

const [address, name, timeoutArg, garbageArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 3000);
const id = (Math.random() * 0x10000) | 0;
const sock = dgram.createSocket("udp4");
const started = performance.now();
const done = (out: object) => {
  process.stdout.write(`${JSON.stringify({ ...out, ms: Math.round(performance.now() - started) })}\n`);
  sock.close();
};
const timer = setTimeout(() => done({ timeout: true }), timeoutMs);
sock.on("message", (msg) => {
  try {
    const res = decodeDnsResponse(msg, id, name!);
    clearTimeout(timer);
    done({ rcode: res.rcode, addresses: res.answers.map((a) => a.address) });
  } catch {
    // not our answer: keep waiting
  }
});
for (let i = 0; i < Number(garbageArg ?? 0); i++) {
  sock.send(Buffer.from(Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 7) & 0xff)), 5353, address!);
}
sock.send(encodeDnsQuery(id, name!), 5353, address!);
