/**
 * settings: run-time settings an admin changes in the panel (proxy defaults, intervals, retention, IP blocking).
 * Row node_id '' is the fleet-wide value; a node's own row overrides it. Unknown or invalid stored values fall back
 * to the default (a bad row never stops a subsystem). Jobs and health read them with getSettings().
 */
import * as v from "valibot";
import type { Sql } from "../client.ts";

/** Form and env values arrive as strings: accept "45" for 45. */
function intField(min: number, max: number, label: string) {
  const msg = `${label}: an integer from ${min} to ${max}`;
  return v.pipe(
    v.unknown(),
    v.transform((x) => (typeof x === "string" && /^\s*-?\d+\s*$/.test(x) ? Number(x.trim()) : x)),
    v.number(msg),
    v.integer(msg),
    v.minValue(min, msg),
    v.maxValue(max, msg),
  );
}

const CIDR = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\/(?:3[0-2]|[12]?\d))?$|^[0-9a-fA-F:]+(?:\/(?:12[0-8]|1[01]\d|[1-9]?\d))?$/;

const cidrList = v.pipe(
  v.unknown(),
  v.transform((x) => (typeof x === "string" ? x.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean) : x)),
  v.array(v.pipe(v.string(), v.regex(CIDR, "an IPv4/IPv6 address or CIDR, e.g. 192.168.1.0/24")), "a list of addresses"),
  v.maxLength(256, "at most 256 entries"),
);

export const AUTH_MODES = ["password", "whitelist", "password_or_whitelist", "none"] as const;

export const SettingsSchema = v.object({
  "proxy.auth_mode": v.picklist(AUTH_MODES, `one of ${AUTH_MODES.join(", ")}`),
  "proxy.whitelist": cidrList,
  "health.interval_s": intField(30, 60, "health interval (s)"),
  /** Default scheduled rotation interval for modems without their own schedule; 0 = off, else at least 60 s. */
  "rotation.interval_s": v.pipe(intField(0, 604800, "rotation interval (s)"), v.check((n) => n === 0 || n >= 60, "rotation interval (s): 0 (off) or at least 60")),
  "rotation.unique_history": intField(1, 50, "unique-IP history"),
  "retention.samples_days": intField(1, 365, "health sample retention (days)"),
  "retention.logs_days": intField(1, 3650, "log retention (days)"),
  "security.ip_block_threshold": intField(3, 10000, "offences before an IP block"),
  "security.ip_block_minutes": intField(1, 10080, "IP block duration (min)"),
  "security.login_lock_minutes": intField(1, 1440, "account lock duration (min)"),
});

export type Settings = v.InferOutput<typeof SettingsSchema>;
export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(SettingsSchema.entries) as SettingKey[];

export const DEFAULT_SETTINGS: Settings = {
  "proxy.auth_mode": "password",
  "proxy.whitelist": [],
  "health.interval_s": 30,
  "rotation.interval_s": 0,
  "rotation.unique_history": 5,
  "retention.samples_days": 7,
  "retention.logs_days": 30,
  "security.ip_block_threshold": 30,
  "security.ip_block_minutes": 15,
  "security.login_lock_minutes": 15,
};

/** Effective settings of a node: defaults < fleet row < node row; invalid stored values are ignored. */
export async function getSettings(sql: Sql, nodeId: string, defaults: Partial<Settings> = {}): Promise<Settings> {
  const rows = await sql`
    select key, value from settings where node_id in ('', ${nodeId})
    order by case when node_id = '' then 0 else 1 end`;
  const out: Settings = { ...DEFAULT_SETTINGS, ...defaults };
  for (const r of rows) {
    const key = r.key as SettingKey;
    const schema = SettingsSchema.entries[key];
    if (!schema) continue;
    const parsed = v.safeParse(schema, r.value);
    if (parsed.success) (out as Record<string, unknown>)[key] = parsed.output;
  }
  return out;
}

/** Writes validated values (validate with SettingsSchema first); node '' = fleet-wide. */
export async function putSettings(sql: Sql, values: Partial<Settings>, by: string, nodeId = ""): Promise<void> {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  await sql.begin(async (tx) => {
    for (const [key, value] of entries) {
      await tx`
        insert into settings (node_id, key, value, updated_at, updated_by)
        values (${nodeId}, ${key}, ${tx.json(value as never)}, now(), ${by})
        on conflict (node_id, key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
    }
  });
}
