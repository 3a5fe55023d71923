/**
 * CLI entry points of the operations commands (backup, restore, export-config, import-config, down). Each parses its
 * own flags, prints a short human report and returns the exit code; AppErrors propagate to main(), which prints
 * their message. The heavy modules are imported lazily so `lteproxy --help` stays fast.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadConfig, type Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { AppError } from "../../lib/errors.ts";
import { setLogLevel } from "../../lib/logger.ts";
import { parseArgs, strFlag, type ParsedArgs } from "../args.ts";

function configFrom(args: ParsedArgs): Config {
  const config = loadConfig({ file: strFlag(args, "config") });
  setLogLevel(config.log.level === "info" ? "warn" : config.log.level);
  return config;
}

async function withDatabase<T>(config: Config, fn: (sql: Sql, url: string) => Promise<T>): Promise<T> {
  const { openDatabase } = await import("../../db/open.ts");
  const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: 3, applicationName: "lteproxy-ops" });
  try {
    return await fn(db.sql, db.url);
  } finally {
    await db.close();
  }
}

function usage(text: string): number {
  console.log(text);
  return 0;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export const BACKUP_USAGE = `lteproxy backup [FILE] [--config FILE]

Writes one archive (tar.gz; tar.zst when FILE ends in .zst) with a pg_dump of the configured database (the embedded
one by default), the config files and a manifest (lteproxy version, schema migrations, row counts). Default FILE:
<data dir>/backups/lteproxy-<node>-<time>.tar.gz. Mode 0600: it holds every secret of the box.`;

export async function backupCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ["config"] });
  if (args.flags.help) return usage(BACKUP_USAGE);
  if (args.positionals.length > 1) throw new AppError("CLI_USAGE", "backup takes at most one FILE");
  const config = configFrom(args);
  const { createBackup, backupConfigFiles } = await import("./backup.ts");
  const r = await withDatabase(config, (sql, url) => createBackup({
    sql, url, nodeId: config.node.id, file: args.positionals[0], dataDir: config.paths.data_dir, configFiles: backupConfigFiles(strFlag(args, "config")),
  }));
  const rows = Object.values(r.manifest.rowCounts).reduce((a, b) => a + b, 0);
  console.log(`backup written: ${r.file} (${mib(r.bytes)})`);
  console.log(`  schema ${r.manifest.schemaMigrations.at(-1)?.name ?? "none"}, ${Object.keys(r.manifest.rowCounts).length} tables, ${rows} rows`);
  console.log(`  config: ${r.manifest.config.files.map((f) => f.from).join(", ") || "none"}${r.manifest.config.skipped.length ? ` (skipped: ${r.manifest.config.skipped.join(", ")})` : ""}`);
  return 0;
}

export const RESTORE_USAGE = `lteproxy restore FILE [--replace] [--restore-config] [--config FILE]

Restores a backup into the configured database. Refuses a backup from a newer lteproxy schema, and a database that
is not empty unless --replace is given (stop lteproxy first: systemctl stop lteproxy). Pending migrations are applied
afterwards. --restore-config also writes the backup's config files back (existing ones kept as .bak-<time>).`;

export async function restoreCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ["config"], booleans: ["replace", "restore-config"] });
  if (args.flags.help) return usage(RESTORE_USAGE);
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new AppError("CLI_USAGE", "restore needs exactly one FILE (see --help)");
  const config = configFrom(args);
  const { restoreBackup } = await import("./restore.ts");
  const r = await withDatabase(config, (sql, url) => restoreBackup({ sql, url, file, replace: args.flags.replace === true, restoreConfig: args.flags["restore-config"] === true }));
  console.log(`restored ${file}: made by lteproxy ${r.manifest.lteproxy.version} on ${r.manifest.hostname} at ${r.manifest.createdAt}`);
  console.log(`  ${Object.values(r.rowCounts).reduce((a, b) => a + b, 0)} rows in ${Object.keys(r.rowCounts).length} tables` +
    (r.migrated.length ? `; migrated: ${r.migrated.join(", ")}` : ""));
  for (const d of r.countDiffs) console.log(`  note: ${d.table} has ${d.restored} rows, the manifest counted ${d.backup} (written while the backup ran)`);
  if (r.configRestored.length) console.log(`  config restored: ${r.configRestored.join(", ")}`);
  console.log("start lteproxy again: systemctl start lteproxy");
  return 0;
}

export const EXPORT_USAGE = `lteproxy export-config [--output FILE] [--config FILE]

Prints (or writes, mode 0600) this node's settings, panel users, proxy users and rotation settings as JSON, for
import-config on another box. It holds password hashes and the proxy passwords.`;

export async function exportConfigCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ["config", "output"] });
  if (args.flags.help) return usage(EXPORT_USAGE);
  const config = configFrom(args);
  const { exportConfig } = await import("./config-transfer.ts");
  const doc = await withDatabase(config, (sql) => exportConfig(sql, config.node.id));
  const text = JSON.stringify(doc, null, 2) + "\n";
  const out = strFlag(args, "output");
  if (out) {
    writeFileSync(out, text, { mode: 0o600 });
    console.log(`exported ${doc.settings.length} settings, ${doc.users.length} users, ${doc.proxy_users.length} proxy users, ` +
      `${doc.rotation.length} rotation entries to ${out}`);
  } else process.stdout.write(text);
  return 0;
}

export const IMPORT_USAGE = `lteproxy import-config FILE|- [--dry-run] [--config FILE]

Validates the whole document first (every problem is listed with its JSON path), then applies it to this node in one
transaction: upserts by name, nothing else is deleted. Per-modem entries for IMEIs this node does not have are
skipped and listed. --dry-run reports what would change and changes nothing.`;

export async function importConfigCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ["config"], booleans: ["dry-run"] });
  if (args.flags.help) return usage(IMPORT_USAGE);
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new AppError("CLI_USAGE", "import-config needs one FILE, or - for stdin (see --help)");
  let text: string;
  try {
    text = file === "-" ? await Bun.stdin.text() : readFileSync(file, "utf8");
  } catch (error) {
    throw new AppError("CONFIG_DOC_UNREADABLE", `cannot read ${file}: ${(error as Error).message}`);
  }
  const { parseConfigDoc, importConfig } = await import("./config-transfer.ts");
  const doc = parseConfigDoc(text);
  const config = configFrom(args);
  const r = await withDatabase(config, (sql) => importConfig(sql, config.node.id, doc, { dryRun: args.flags["dry-run"] === true, by: "import-config" }));
  console.log(`${r.dryRun ? "would import" : "imported"} into node ${config.node.id}: ${r.settings} settings; users ${r.users.created} new, ${r.users.updated} updated; ` +
    `proxy users ${r.proxyUsers.created} new, ${r.proxyUsers.updated} updated; ${r.rotation} rotation entries`);
  for (const s of r.skipped) console.log(`  skipped: ${s}`);
  return 0;
}

export const DOWN_USAGE = `lteproxy down [--config FILE] [--json]

Emergency stop: stops the control plane (systemd), the data plane (lteproxy-proxy, every 3proxy@, or the engine the
child supervisor started) and removes every ip rule and route lteproxy owns. Needs no database. Prints each step;
exits 1 when a step failed.`;

export async function downCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ["config"], booleans: ["json"] });
  if (args.flags.help) return usage(DOWN_USAGE);
  const config = configFrom(args);
  const { runDown, formatSteps } = await import("./down.ts");
  const steps = await runDown(config);
  console.log(args.flags.json ? JSON.stringify(steps, null, 2) : formatSteps(steps));
  return steps.every((s) => s.ok) ? 0 : 1;
}
