/**
 * The built-in proxy engine's public surface. The control plane writes the config file and
 * reads counters and connection logs; the CLI runs the engine. Nothing here touches a database.
 */
export { proxyCommand } from "./cli.ts";
export { readProxyConfigFile, watchProxyConfigFile, writeProxyConfigFile } from "./config-file.ts";
export {
  parseProxyConfig,
  ProxyConfigSchema,
  type ProxyConfig,
  type ProxyConfigInput,
  type ProxyPortConfig,
  type ProxyTimeouts,
  type ProxyUser,
} from "./config-schema.ts";
export { CURRENT_FILE as CONN_LOG_CURRENT_FILE, type ConnLogEntry } from "./conn-log-spool.ts";
export { startProxyEngine, type ProxyEngine, type ProxyEngineOptions, type ReloadResult } from "./engine.ts";
export type { ResultCode } from "./results.ts";
export { defaultConfigPath, defaultPaths, defaultRuntimeDir } from "./runtime-dir.ts";
export type { EngineStats, PortStats, UserCounters } from "./stats.ts";
