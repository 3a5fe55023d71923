/**
 * Asks a modem's DNS relay one question, as 3proxy would, for `lteproxy doctor`. The name is under `.invalid`
 * (RFC 6761): a working carrier resolver answers NXDOMAIN without asking anyone, so the probe shows the whole path
 * (relay, modem route, carrier DNS) without looking up a real name.
 */
import dgram from "node:dgram";
import { encodeDnsQuery } from "../engine/dns-message.ts";
import { RELAY_PORT, relayListenAddress } from "./address.ts";
import { dnsId, dnsRcode, isDnsResponse } from "./wire.ts";

export const PROBE_NAME = "lteproxy-doctor.invalid";

/** The answer's RCODE (2 = SERVFAIL: the relay got no answer through the modem), or null when the relay is silent. */
export function probeDnsRelay(proxyPort: number, timeoutMs = 3000, listenPort = RELAY_PORT): Promise<number | null> {
  const id = (Math.random() * 0x10000) | 0;
  const sock = dgram.createSocket("udp4");
  return new Promise<number | null>((resolve) => {
    let settled = false;
    const done = (rcode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(rcode);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on("error", () => done(null));
    sock.on("message", (msg) => {
      if (isDnsResponse(msg) && dnsId(msg) === id) done(dnsRcode(msg));
    });
    sock.send(encodeDnsQuery(id, PROBE_NAME), listenPort, relayListenAddress(proxyPort));
  });
}
