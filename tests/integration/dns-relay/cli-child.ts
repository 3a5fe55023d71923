/** `lteproxy dns-relay` for tests that run it inside a network namespace (ip netns exec … bun cli-child.ts …). */
import { dnsRelayCommand } from "../../../src/proxy/dns-relay/cli.ts";

process.exit(await dnsRelayCommand(process.argv.slice(2)));
