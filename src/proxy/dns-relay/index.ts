/** The per-modem DNS relay of the 3proxy backend: see relay.ts. */
export { RELAY_PORT, relayListenAddress, relayNserver } from "./address.ts";
export { defaultDnsRelayConfigPath, parseDnsRelayFile, readDnsRelayFile, writeDnsRelayFile, type DnsRelayFile } from "./config-file.ts";
export { createDnsRelay, validateDnsRelayEntries, type DnsRelay, type DnsRelayEntry, type DnsRelayEntryStats, type DnsRelayOptions } from "./relay.ts";
