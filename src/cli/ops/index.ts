/**
 * The operations commands in main.ts's command-table shape: `...OPS_COMMANDS` in COMMANDS adds backup, restore,
 * export-config, import-config and down (each loads its heavy parts lazily). `lteproxy doctor` adds
 * `extraDoctorChecks` from ./doctor-extra.ts (imported lazily there too).
 */
import {
  BACKUP_USAGE, DOWN_USAGE, EXPORT_USAGE, IMPORT_USAGE, RESTORE_USAGE, backupCommand, downCommand, exportConfigCommand, importConfigCommand,
  restoreCommand,
} from "./commands.ts";

export { backupCommand, restoreCommand, exportConfigCommand, importConfigCommand, downCommand } from "./commands.ts";

export interface OpsCommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const OPS_COMMANDS: Record<string, OpsCommand> = {
  backup: {
    summary: "back up the database and the config into one archive",
    usage: BACKUP_USAGE,
    run: backupCommand,
  },
  restore: {
    summary: "restore a backup into an empty database (version-checked)",
    usage: RESTORE_USAGE,
    run: restoreCommand,
  },
  "export-config": {
    summary: "export settings, users, proxy users and rotation settings as JSON",
    usage: EXPORT_USAGE,
    run: exportConfigCommand,
  },
  "import-config": {
    summary: "import a JSON document made by export-config (validated, one transaction)",
    usage: IMPORT_USAGE,
    run: importConfigCommand,
  },
  down: {
    summary: "emergency stop: withdraw every proxy port, route and rule",
    usage: DOWN_USAGE,
    run: downCommand,
  },
};
