/**
 * Picks the data plane from `proxy.engine` × `proxy.supervisor` (the one call app.ts makes):
 *
 *   builtin + child    `lteproxy proxy` as a supervised child process (demo, lab, dev)
 *   builtin + systemd  lteproxy-proxy.service (appliance)
 *   3proxy  + child    3proxy processes run directly, files under <runtime dir>/3proxy (lab, dev)
 *   3proxy  + systemd  3proxy@<imei>.service, files in /etc/3proxy, logs in /var/log/3proxy (appliance)
 *   any     + none     only writes <runtime dir>/proxy.json; something else runs the engine
 *
 * Also says where the ingest job finds the connection logs of the chosen engine.
 */
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { writeProxyConfigFile } from "../engine/config-file.ts";
import { createChildSupervisor } from "./child.ts";
import { engineRequest } from "./stats-client.ts";
import { createSystemdSupervisor } from "./systemd.ts";
import { createDnsRelay } from "../dns-relay/relay.ts";
import { createThreeProxySupervisor, dbUserLookup, type ThreeProxyDirs } from "./three-proxy-backend.ts";
import { processInstances } from "./three-proxy-instances.ts";
import type { ProxySupervisor } from "./types.ts";

export interface ConfiguredSupervisorOptions {
  engine: "builtin" | "3proxy";
  supervisor: "child" | "systemd" | "none";
  runtimeDir: string;
  /** For 3proxy: clear passwords and limits come from proxy_users. */
  sql: Sql;
  /** argv prefix for processes the child modes start, e.g. ["ip", "netns", "exec", "<box ns>"] in the lab. */
  wrapper?: string[];
  /** The 3proxy executable for 3proxy + child (default: `3proxy` on PATH). */
  threeProxyBinary?: string;
}

export interface ConfiguredSupervisor {
  supervisor: ProxySupervisor;
  /** Where the ingest job reads connection logs: the built-in spool, or 3proxy's log directory. */
  logs: { engine: "builtin" | "3proxy"; spoolDir: string; threeProxyLogDir?: string };
}

function configOnly(runtimeDir: string): ProxySupervisor {
  const path = join(runtimeDir, "proxy.json");
  const socket = join(runtimeDir, "proxy-stats.sock");
  return {
    async apply(config) {
      writeProxyConfigFile(path, config);
    },
    async status() {
      const h = (await engineRequest(socket, "/healthz")) as { version?: string | number } | null;
      return h ? { alive: true, version: h.version } : { alive: false, detail: `supervisor "none": no engine answers on ${socket}` };
    },
    stats: () => engineRequest(socket, "/stats"),
    async stop() {},
  };
}

export function createConfiguredSupervisor(opts: ConfiguredSupervisorOptions): ConfiguredSupervisor {
  const spoolDir = join(opts.runtimeDir, "connlog");
  if (opts.engine === "builtin") {
    const supervisor = opts.supervisor === "systemd"
      ? createSystemdSupervisor({ engine: "builtin", runtimeDir: opts.runtimeDir })
      : opts.supervisor === "child"
        ? createChildSupervisor({ runtimeDir: opts.runtimeDir, wrapper: opts.wrapper })
        : configOnly(opts.runtimeDir);
    return { supervisor, logs: { engine: "builtin", spoolDir } };
  }
  if (opts.supervisor === "systemd") {
    return {
      supervisor: createSystemdSupervisor({
        engine: "3proxy",
        runtimeDir: opts.runtimeDir,
        // Read by lteproxy-dns-relay.service (same runtime dir), which 3proxy's nserver lines point at.
        threeProxy: { lookupUsers: dbUserLookup(opts.sql), dnsRelayFile: join(opts.runtimeDir, "dns-relay.json") },
      }),
      logs: { engine: "3proxy", spoolDir, threeProxyLogDir: "/var/log/3proxy" },
    };
  }
  const base = join(opts.runtimeDir, "3proxy");
  const dirs: Required<ThreeProxyDirs> = { etc: join(base, "etc"), log: join(base, "log"), state: join(base, "state"), run: join(base, "run") };
  const supervisor = opts.supervisor === "child"
    ? createThreeProxySupervisor({
        instances: processInstances({ binary: opts.threeProxyBinary ?? Bun.which("3proxy") ?? "3proxy", wrapper: opts.wrapper, scan: { pidDir: dirs.run, cfgDir: dirs.etc } }),
        dirs, lookupUsers: dbUserLookup(opts.sql),
        // No relay service without systemd: this process answers 3proxy's lookups itself while it runs.
        dnsRelayFile: null, dnsRelay: createDnsRelay(),
      })
    : configOnly(opts.runtimeDir);
  return { supervisor, logs: { engine: "3proxy", spoolDir, threeProxyLogDir: dirs.log } };
}
