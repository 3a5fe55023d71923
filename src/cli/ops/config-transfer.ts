/**
 * `export-config` / `import-config`: what an operator moves between boxes as one JSON document: run-time settings,
 * panel users, proxy users and per-modem rotation settings. Not the fleet's live state (modems, events, logs:
 * that is what `backup` is for). The document holds password hashes and the proxy users' clear passwords: keep it as
 * private as a backup.
 *
 * Import is validated as a whole with valibot first (every problem reported with its JSON path), then applied in one
 * transaction as upserts keyed by name: settings by (scope, key), users by username, proxy users by (scope, username),
 * rotation by IMEI. Rows the document does not mention are left alone. Per-modem entries for an IMEI this node does
 * not have are skipped and reported.
 */
import * as v from "valibot";
import type { Sql } from "../../db/client.ts";
import { SettingsSchema } from "../../db/queries/settings.ts";
import { AppError } from "../../lib/errors.ts";
import { VERSION } from "../../version.ts";

const Username = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._@-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 . _ @ -"));
const ProxyUsername = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 . _ -"));
const Imei = v.pipe(v.string(), v.regex(/^[0-9]{14,16}$/, "an IMEI of 14-16 digits"));
const Hash = v.pipe(v.string(), v.regex(/^\$(argon2(id|i|d)|2[abxy]?)\$/, "an argon2 or bcrypt hash"));
/** "fleet" = every node (settings node '' / proxy_users node NULL); "node" = the importing node; or one modem. */
const Scope = v.union([v.literal("fleet"), v.literal("node"), v.object({ imei: Imei })]);

export const ConfigDocSchema = v.strictObject({
  format: v.literal("lteproxy-config", 'must be "lteproxy-config"'),
  version: v.literal(1, "must be 1"),
  exportedAt: v.optional(v.string()),
  exportedBy: v.optional(v.string()),
  settings: v.optional(v.array(v.strictObject({
    scope: v.picklist(["fleet", "node"], 'must be "fleet" or "node"'),
    key: v.pipe(v.string(), v.minLength(1), v.maxLength(128), v.check((k) => !k.startsWith("internal."), "internal.* keys are not configuration")),
    value: v.unknown(),
  })), []),
  users: v.optional(v.array(v.strictObject({
    username: Username,
    password_hash: Hash,
    role: v.picklist(["admin", "technician", "viewer"], "admin, technician or viewer"),
    disabled: v.optional(v.boolean(), false),
    must_change_password: v.optional(v.boolean(), false),
  })), []),
  proxy_users: v.optional(v.array(v.strictObject({
    scope: Scope,
    username: ProxyUsername,
    password: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    password_hash: Hash,
    quota_mb: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))), null),
    bandwidth_bps: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))), null),
    enabled: v.optional(v.boolean(), true),
  })), []),
  rotation: v.optional(v.array(v.strictObject({
    imei: Imei,
    method: v.picklist(["data", "airplane", "reboot"], "data, airplane or reboot"),
    schedule: v.nullable(v.pipe(v.string(), v.maxLength(200))),
  })), []),
});

export type ConfigDoc = v.InferOutput<typeof ConfigDocSchema>;

/** Parses and validates a document; throws CONFIG_DOC_INVALID with every issue as "path: message". */
export function parseConfigDoc(text: string): ConfigDoc {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError("CONFIG_DOC_INVALID", `not JSON: ${(error as Error).message}`);
  }
  const r = v.safeParse(ConfigDocSchema, json);
  const issues = r.success ? [] : r.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
  // Known settings are checked against the panel's own schema, so an import cannot store a value the panel rejects.
  if (r.success) {
    r.output.settings.forEach((s, i) => {
      const schema = SettingsSchema.entries[s.key as keyof typeof SettingsSchema.entries];
      const parsed = schema ? v.safeParse(schema, s.value) : undefined;
      if (parsed && !parsed.success) issues.push(`settings.${i}.value (${s.key}): ${parsed.issues[0]!.message}`);
    });
    if (issues.length === 0) return r.output;
  }
  throw new AppError("CONFIG_DOC_INVALID", `invalid config document:\n  ${issues.slice(0, 20).join("\n  ")}` +
    (issues.length > 20 ? `\n  … and ${issues.length - 20} more` : ""), { issues });
}

/** Reads this node's transferable configuration. */
export async function exportConfig(sql: Sql, nodeId: string, by = "cli"): Promise<ConfigDoc> {
  const settings = await sql`
    select node_id, key, value from settings where node_id in ('', ${nodeId}) and not starts_with(key, 'internal.')
    order by node_id, key`;
  const users = await sql`select username, password_hash, role, disabled, must_change_password from users order by id`;
  const proxyUsers = await sql`
    select p.node_id, m.imei, p.username, p.password, p.password_hash, p.quota_mb, p.bandwidth_bps, p.enabled
    from proxy_users p left join modems m on m.id = p.modem_id
    where p.node_id = ${nodeId} or p.node_id is null order by p.id`;
  const rotation = await sql`select imei, rotation_method, rotation_schedule from modems where node_id = ${nodeId} order by imei`;
  return {
    format: "lteproxy-config",
    version: 1,
    exportedAt: new Date().toISOString(),
    exportedBy: `${by} on ${nodeId} (lteproxy ${VERSION})`,
    settings: settings.map((s) => ({ scope: s.node_id === "" ? "fleet" : "node", key: s.key as string, value: s.value })),
    users: users.map((u) => ({
      username: u.username as string, password_hash: u.password_hash as string, role: u.role as "admin",
      disabled: u.disabled as boolean, must_change_password: u.must_change_password as boolean,
    })),
    proxy_users: proxyUsers.map((p) => ({
      scope: p.imei ? { imei: p.imei as string } : p.node_id === null ? "fleet" as const : "node" as const,
      username: p.username as string, password: p.password as string, password_hash: p.password_hash as string,
      quota_mb: (p.quota_mb as number | null) ?? null, bandwidth_bps: (p.bandwidth_bps as number | null) ?? null, enabled: p.enabled as boolean,
    })),
    rotation: rotation.map((r) => ({ imei: r.imei as string, method: r.rotation_method as "airplane", schedule: (r.rotation_schedule as string | null) ?? null })),
  };
}

export interface ImportReport {
  settings: number;
  users: { created: number; updated: number };
  proxyUsers: { created: number; updated: number };
  rotation: number;
  /** Entries not applied, with the reason (unknown IMEI on this node). */
  skipped: string[];
  dryRun: boolean;
}

class DryRun extends Error {}

/** Applies a validated document to this node in one transaction (rolled back when dryRun). */
export async function importConfig(sql: Sql, nodeId: string, doc: ConfigDoc, opts: { dryRun?: boolean; by?: string } = {}): Promise<ImportReport> {
  const report: ImportReport = { settings: 0, users: { created: 0, updated: 0 }, proxyUsers: { created: 0, updated: 0 }, rotation: 0, skipped: [], dryRun: !!opts.dryRun };
  try {
    await sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      const modems = new Map((await t`select imei, id from modems where node_id = ${nodeId}`).map((m) => [m.imei as string, Number(m.id)]));
      for (const s of doc.settings) {
        await t`insert into settings (node_id, key, value, updated_at, updated_by)
                values (${s.scope === "fleet" ? "" : nodeId}, ${s.key}, ${t.json(s.value as never)}, now(), ${opts.by ?? "import-config"})
                on conflict (node_id, key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
        report.settings++;
      }
      for (const u of doc.users) {
        const r = await t`insert into users (username, password_hash, role, disabled, must_change_password)
          values (${u.username}, ${u.password_hash}, ${u.role}, ${u.disabled}, ${u.must_change_password})
          on conflict (username) do update set password_hash = excluded.password_hash, role = excluded.role, disabled = excluded.disabled,
            must_change_password = excluded.must_change_password, session_epoch = users.session_epoch + 1
          returning (xmax = 0) as created`;
        if (r[0]!.created) report.users.created++;
        else report.users.updated++;
      }
      for (const p of doc.proxy_users) {
        let node: string | null = nodeId;
        let modemId: number | null = null;
        if (p.scope === "fleet") node = null;
        else if (typeof p.scope === "object") {
          const id = modems.get(p.scope.imei);
          if (id === undefined) {
            report.skipped.push(`proxy user ${p.username}: modem ${p.scope.imei} is not on node ${nodeId}`);
            continue;
          }
          modemId = id;
        }
        const existing = await t`select id from proxy_users where coalesce(node_id, '') = ${node ?? ""} and coalesce(modem_id, 0) = ${modemId ?? 0}
                                 and username = ${p.username}`;
        if (existing[0]) {
          await t`update proxy_users set password = ${p.password}, password_hash = ${p.password_hash}, quota_mb = ${p.quota_mb},
                  bandwidth_bps = ${p.bandwidth_bps}, enabled = ${p.enabled} where id = ${existing[0].id as number}`;
          report.proxyUsers.updated++;
        } else {
          await t`insert into proxy_users (node_id, modem_id, username, password, password_hash, quota_mb, bandwidth_bps, enabled)
                  values (${node}, ${modemId}, ${p.username}, ${p.password}, ${p.password_hash}, ${p.quota_mb}, ${p.bandwidth_bps}, ${p.enabled})`;
          report.proxyUsers.created++;
        }
      }
      for (const r of doc.rotation) {
        const id = modems.get(r.imei);
        if (id === undefined) {
          report.skipped.push(`rotation of ${r.imei}: modem is not on node ${nodeId}`);
          continue;
        }
        await t`update modems set rotation_method = ${r.method}, rotation_schedule = ${r.schedule}, updated_at = now() where id = ${id}`;
        report.rotation++;
      }
      await t`insert into audit_log (node_id, actor, action, target, details)
              values (${nodeId}, ${opts.by ?? "cli"}, 'config.import', ${`${doc.settings.length} settings, ${doc.users.length} users, ${doc.proxy_users.length} proxy users`},
                      ${t.json({ ...report, skipped: report.skipped.length } as never)})`;
      if (opts.dryRun) throw new DryRun();
    });
  } catch (error) {
    if (!(error instanceof DryRun)) throw error;
  }
  return report;
}
