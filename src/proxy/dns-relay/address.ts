/**
 * Where a modem's DNS relay listens. 3proxy's `nserver` sockets are unbound (3proxy.md §3), so 3proxy is pointed at
 * a loopback relay instead of the carrier's DNS; the relay forwards from the modem's address. The address is derived
 * from the proxy port, so it is stable across restarts and unique per modem without any allocation table: all of
 * 127/8 is local on Linux (no `ip addr add`, no privilege), and one address per modem avoids port collisions.
 */

/** UDP port of every relay listener (unprivileged; the address, not the port, tells modems apart). */
export const RELAY_PORT = 5353;

/** `127.53.<port >> 8>.<port & 255>` for a proxy port 1-65535. Throws RangeError on anything else. */
export function relayListenAddress(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`proxy port must be 1-65535, got ${port}`);
  return `127.53.${port >> 8}.${port & 255}`;
}

/** What 3proxy's `nserver` takes for the relay of the modem on proxy port `port` (`nserver ip[:port]`). */
export function relayNserver(port: number): string {
  return `${relayListenAddress(port)}:${RELAY_PORT}`;
}
