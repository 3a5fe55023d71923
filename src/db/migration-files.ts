/**
 * The SQL migrations, embedded in the executable by Bun's text imports.
 * Add a new file to sql/ AND to this list; a test checks that both agree.
 */
import m001 from "../../sql/001_schema.sql" with { type: "text" };
import m002 from "../../sql/002_panel.sql" with { type: "text" };

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: MigrationFile[] = [
  { version: 1, name: "001_schema.sql", sql: m001 },
  { version: 2, name: "002_panel.sql", sql: m002 },
];
