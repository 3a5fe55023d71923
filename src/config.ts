/**
 * One valibot schema for every setting: defaults, then the TOML file (/etc/lteproxy/lteproxy.toml or --config),
 * then environment overrides (LTEPROXY_<SECTION>_<KEY>, DATABASE_URL and a few short aliases).
 * A bad value stops start-up with a message naming the key, the value and what is allowed.
 */
import * as v from "valibot";
import { existsSync, readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { AppError } from "./lib/errors.ts";

const isRoot = () => process.getuid?.() === 0;

/** Env values are strings: turn numeric strings into numbers before validation. */
function int(min: number, max: number, dflt: number) {
  return v.optional(
    v.pipe(
      v.unknown(),
      v.transform((x) => (typeof x === "string" && /^-?\d+$/.test(x.trim()) ? Number(x.trim()) : x)),
      v.number(`an integer from ${min} to ${max}`),
      v.integer(`an integer from ${min} to ${max}`),
      v.minValue(min, `an integer from ${min} to ${max}`),
      v.maxValue(max, `an integer from ${min} to ${max}`),
    ),
    dflt,
  );
}
function bool(dflt: boolean) {
  return v.optional(
    v.pipe(
      v.unknown(),
      v.transform((x) => (x === "true" || x === "1" || x === "yes" ? true : x === "false" || x === "0" || x === "no" ? false : x)),
      v.boolean("true or false"),
    ),
    dflt,
  );
}
function str(dflt: string) {
  return v.optional(v.string("a string"), dflt);
}
function oneOf<const T extends readonly [string, ...string[]]>(values: T, dflt: T[number]) {
  return v.optional(v.picklist(values, `one of ${values.join(", ")}`), dflt);
}
function list(dflt: string[]) {
  return v.optional(
    v.pipe(
      v.unknown(),
      v.transform((x) => (typeof x === "string" ? x.split(",").map((s) => s.trim()).filter(Boolean) : x)),
      v.array(v.string(), "a list of strings (comma-separated in the environment)"),
    ),
    dflt,
  );
}

function defaultDataDir(): string {
  return isRoot() ? "/var/lib/lteproxy" : join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local/share"), "lteproxy");
}
function defaultRuntimeDir(): string {
  if (isRoot()) return "/run/lteproxy";
  return process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, "lteproxy") : `/tmp/lteproxy-${process.getuid?.() ?? 0}`;
}

export const ConfigSchema = v.object({
  node: v.optional(v.object({ id: str(""), name: str("") }), {}),
  http: v.optional(
    v.object({
      host: str("0.0.0.0"),
      port: int(1, 65535, 8080),
      tls_cert: str(""),
      tls_key: str(""),
      public_url: str(""),
      cors_origins: list([]),
    }),
    {},
  ),
  database: v.optional(v.object({ url: str(""), max_connections: int(1, 200, 10) }), {}),
  paths: v.optional(
    v.object({
      data_dir: str(""),
      runtime_dir: str(""),
      device_dir: str("/dev/modems"),
      sysfs_root: str("/sys"),
    }),
    {},
  ),
  log: v.optional(v.object({ level: oneOf(["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const, "info") }), {}),
  proxy: v.optional(
    v.object({
      engine: oneOf(["builtin", "3proxy"] as const, "builtin"),
      supervisor: oneOf(["child", "systemd", "none"] as const, "child"),
      listen: str("0.0.0.0"),
      public_host: str(""),
      port_min: int(1, 65535, 3128),
      port_max: int(1, 65535, 4127),
      table_min: int(1, 2147483647, 100),
      table_max: int(1, 2147483647, 999),
      lan_networks: list([]),
      whitelist: list([]),
      max_connections: int(1, 100000, 500),
    }),
    {},
  ),
  net: v.optional(
    v.object({
      driver: oneOf(["qmi", "at-rmnet", "none"] as const, "qmi"),
      /** A program, or a program with leading arguments ("lteproxy sim qmicli" in the lab), split on spaces. */
      qmicli: str("qmicli"),
      qmi_data_format: oneOf(["qmicli", "sysfs", "none"] as const, "qmicli"),
      qmi_proxy: bool(false),
      rule_priority_min: int(1, 32765, 10000),
      rule_priority_max: int(1, 32765, 10999),
      udhcpc: str("udhcpc"),
      apn: str("internet"),
      netns: str(""),
    }),
    {},
  ),
  health: v.optional(
    v.object({
      interval_s: int(30, 60, 30),
      check_url: str(""),
      concurrency: int(1, 200, 32),
      retention_days: int(1, 365, 7),
      /** Alerts are POSTed here as JSON when set (opened and resolved, with retries). */
      alert_webhook_url: v.optional(
        v.pipe(v.string("a string"), v.check((s) => s === "" || /^https?:\/\/[^\s]+$/.test(s), "an http:// or https:// URL, or empty")),
        "",
      ),
      /** Sent as `Authorization: Bearer <token>` with each webhook delivery. */
      alert_webhook_token: str(""),
    }),
    {},
  ),
  auth: v.optional(
    v.object({
      admin_password: str(""),
      session_minutes: int(5, 1440, 30),
      jwt_secret: str(""),
      lockout_attempts: int(3, 100, 10),
    }),
    {},
  ),
  metrics: v.optional(v.object({ token: str(""), allow: list(["127.0.0.1/32", "::1/128"]) }), {}),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/** Short environment names operators expect, besides the generic LTEPROXY_<SECTION>_<KEY>. */
const ENV_ALIASES: Record<string, string> = {
  DATABASE_URL: "database.url",
  LTEPROXY_DATA_DIR: "paths.data_dir",
  LTEPROXY_RUNTIME_DIR: "paths.runtime_dir",
  LTEPROXY_DEVICE_DIR: "paths.device_dir",
  LTEPROXY_SYSFS_ROOT: "paths.sysfs_root",
  LTEPROXY_ADMIN_PASSWORD: "auth.admin_password",
  LTEPROXY_METRICS_TOKEN: "metrics.token",
  LTEPROXY_LOG_LEVEL: "log.level",
  LTEPROXY_NODE_ID: "node.id",
  LTEPROXY_ALERT_WEBHOOK_URL: "health.alert_webhook_url",
  LTEPROXY_ALERT_WEBHOOK_TOKEN: "health.alert_webhook_token",
};

type Raw = Record<string, Record<string, unknown>>;

function sectionKeys(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [section, wrapped] of Object.entries(ConfigSchema.entries)) {
    const inner = (wrapped as unknown as { wrapped: v.ObjectSchema<v.ObjectEntries, undefined> }).wrapped;
    for (const key of Object.keys(inner.entries)) out.push([section, key]);
  }
  return out;
}

/** Where each key's value came from, for error messages ("LTEPROXY_HTTP_PORT", "lteproxy.toml", "default"). */
function applyEnv(raw: Raw, env: Record<string, string | undefined>, origin: Map<string, string>): void {
  const set = (path: string, value: string, from: string) => {
    const [section, key] = path.split(".") as [string, string];
    raw[section] ??= {};
    raw[section][key] = value;
    origin.set(path, from);
  };
  for (const [section, key] of sectionKeys()) {
    const name = `LTEPROXY_${section}_${key}`.toUpperCase();
    const value = env[name];
    if (value !== undefined) set(`${section}.${key}`, value, name);
  }
  for (const [name, path] of Object.entries(ENV_ALIASES)) {
    const value = env[name];
    if (value !== undefined) set(path, value, name);
  }
}

export interface LoadOptions {
  /** Explicit config file (--config). A missing explicit file is an error; the default one is optional. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values that win over everything (CLI flags). */
  overrides?: Record<string, Record<string, unknown>>;
}

export const DEFAULT_CONFIG_FILE = "/etc/lteproxy/lteproxy.toml";

/** Loads and validates the configuration. Throws AppError CONFIG_INVALID naming key, value and what is allowed. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const origin = new Map<string, string>();
  let raw: Raw = {};
  const file = opts.file ?? env.LTEPROXY_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new AppError("CONFIG_UNREADABLE", `cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      raw = Bun.TOML.parse(text) as Raw;
    } catch (error) {
      throw new AppError("CONFIG_INVALID", `config file ${file} is not valid TOML: ${(error as Error).message}`);
    }
    for (const [section, keys] of Object.entries(raw)) {
      if (keys && typeof keys === "object") for (const key of Object.keys(keys)) origin.set(`${section}.${key}`, file);
    }
  }
  applyEnv(raw, env, origin);
  for (const [section, keys] of Object.entries(opts.overrides ?? {})) {
    raw[section] = { ...(raw[section] ?? {}), ...keys };
    for (const key of Object.keys(keys)) origin.set(`${section}.${key}`, "command line");
  }
  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    const messages = result.issues.map((issue) => {
      const path = (issue.path ?? []).map((p) => String(p.key)).join(".");
      const from = origin.get(path) ?? "config";
      const shown = JSON.stringify(issue.input);
      return `${from} (${path}) = ${shown}: expected ${issue.message}`;
    });
    throw new AppError("CONFIG_INVALID", `invalid configuration:\n  ${messages.join("\n  ")}`, { issues: messages });
  }
  const config = result.output;
  config.paths.data_dir ||= defaultDataDir();
  config.paths.runtime_dir ||= defaultRuntimeDir();
  config.node.id ||= hostname().toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40) || "node";
  if (config.proxy.port_min > config.proxy.port_max) {
    throw new AppError("CONFIG_INVALID", `proxy.port_min (${config.proxy.port_min}) must not exceed proxy.port_max (${config.proxy.port_max})`);
  }
  if (config.proxy.table_min > config.proxy.table_max) {
    throw new AppError("CONFIG_INVALID", `proxy.table_min (${config.proxy.table_min}) must not exceed proxy.table_max (${config.proxy.table_max})`);
  }
  return config;
}
