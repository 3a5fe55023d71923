/**
 * The data plane's whole input: one JSON file that the control plane writes atomically
 * (see config-file.ts) and `lteproxy proxy` reloads without dropping connections.
 * The control plane imports `ProxyConfigInput` to build the file; the engine only ever sees
 * the parsed `ProxyConfig`, with every default filled in.
 */
import { isIP } from "node:net";
import * as v from "valibot";
import { AppError } from "../../lib/errors.ts";
import { parseCidr } from "./cidr.ts";
import { parseDnsServer } from "./dns-resolver.ts";

const IpAddress = v.pipe(
  v.string(),
  v.check((s) => isIP(s) !== 0, "must be an IPv4 or IPv6 address"),
);

const Cidr = v.pipe(
  v.string(),
  v.check((s) => parseCidr(s) !== null, "must be an address or CIDR (10.0.0.0/8, ::ffff:10.0.0.0/104)"),
);

/** "ip" (port 53), "ip:port" or "[v6]:port". */
const DnsServer = v.pipe(v.string(), v.check((s) => parseDnsServer(s) !== null, "must be ip, ip:port or [v6]:port"));

const PositiveMs = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000));

const UserSchema = v.object({
  /** The proxy username (HTTP Basic / RFC 1929 allow 255 bytes). */
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(255), v.check((s) => !s.includes(":"), "must not contain ':'")),
  /** A Bun.password hash (argon2id or bcrypt); never a clear password. */
  passwordHash: v.pipe(v.string(), v.regex(/^\$(argon2(id|i|d)|2[abxy]?)\$/, "must be an argon2 or bcrypt hash")),
});

const PortSchema = v.object({
  /** The modem's IMEI; names the port in stats, logs and 503 bodies. */
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
  listen: v.optional(IpAddress, "0.0.0.0"),
  /** The modem's own address; every outgoing socket (TCP and DNS) binds to it. null = no bind (dev only). */
  outAddress: v.optional(v.nullable(IpAddress), null),
  /** The modem state; anything but "online" refuses new requests with that state in the reason. */
  state: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  reason: v.optional(v.pipe(v.string(), v.maxLength(500))),
  users: v.optional(v.array(UserSchema), []),
  whitelist: v.optional(v.array(Cidr), []),
  maxConnections: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)), 500),
  /** The modem's carrier DNS; proxied names are resolved only here, from outAddress. */
  dns: v.optional(v.object({ servers: v.array(DnsServer) }), { servers: [] }),
});

const TimeoutsSchema = v.object({
  /** From accept (or from the end of the previous keep-alive request) until a complete handshake/head. */
  handshakeMs: v.optional(PositiveMs, 10_000),
  /** TCP connect to the target, through the modem. */
  connectMs: v.optional(PositiveMs, 10_000),
  /** No byte either way for this long closes the connection (3proxy's default HTTP idle is 180 s). */
  idleMs: v.optional(PositiveMs, 300_000),
});

const SpoolSchema = v.object({
  /** Roll current.jsonl to <ts>.jsonl at least this often (when it has entries). */
  rollSeconds: v.optional(v.pipe(v.number(), v.minValue(0.05), v.maxValue(86_400)), 60),
  /** ...or as soon as it holds this many entries. */
  rollEntries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10_000),
});

export const ProxyConfigSchema = v.pipe(
  v.object({
    /** Opaque to the engine; echoed in /healthz so the control plane knows what is in force. */
    version: v.union([v.string(), v.number()]),
    /** Addresses that need no credentials on every port. */
    whitelist: v.optional(v.array(Cidr), []),
    /**
     * Allow targets on this machine, loopback, link-local (see target-policy.ts). Off in
     * production: such a connection would not leave through the modem.
     */
    allowLocalTargets: v.optional(v.boolean(), false),
    timeouts: v.optional(TimeoutsSchema, {}),
    /** Directory for connection logs; default `<runtime dir>/connlog`. */
    logSpoolDir: v.optional(v.pipe(v.string(), v.minLength(1))),
    spool: v.optional(SpoolSchema, {}),
    /** Unix socket for GET /stats and /healthz; default `<runtime dir>/proxy-stats.sock`. */
    statsSocket: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(107))),
    ports: v.optional(v.array(PortSchema), []),
  }),
  v.check((c) => new Set(c.ports.map((p) => p.port)).size === c.ports.length, "two ports share a port number"),
  v.check((c) => new Set(c.ports.map((p) => p.id)).size === c.ports.length, "two ports share an id"),
);

/** What the control plane writes (defaults may be left out). */
export type ProxyConfigInput = v.InferInput<typeof ProxyConfigSchema>;
/** What the engine runs on (defaults filled in). */
export type ProxyConfig = v.InferOutput<typeof ProxyConfigSchema>;
export type ProxyPortConfig = ProxyConfig["ports"][number];
export type ProxyUser = ProxyPortConfig["users"][number];
export type ProxyTimeouts = ProxyConfig["timeouts"];

/**
 * Validates a parsed JSON value. Throws AppError PROXY_CONFIG_INVALID with every issue
 * (path: message) in details, so one log line says everything that is wrong.
 */
export function parseProxyConfig(input: unknown): ProxyConfig {
  const result = v.safeParse(ProxyConfigSchema, input);
  if (result.success) return result.output;
  const issues = result.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
  throw new AppError("PROXY_CONFIG_INVALID", `invalid proxy config: ${issues.slice(0, 5).join("; ")}`, { issues });
}
