/**
 * Tailscale-style deptest: imports flow one way (STYLE.md):
 *   lib <- db, modem, net, proxy <- events, health <- http, jobs <- app.ts <- main.ts
 * A file in a lower layer importing a higher one fails this test.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../../src");

/** Layer rank: a file may import only ranks <= its own (same-layer imports are fine). */
function layerOf(rel: string): { name: string; rank: number } {
  const top = rel.split("/")[0]!;
  const table: Record<string, number> = {
    lib: 0, "types.d.ts": 0, "version.ts": 0, "config.ts": 0,
    db: 1, modem: 1, net: 1, proxy: 1,
    events: 2, health: 2,
    http: 3, jobs: 3,
    cli: 4, "app.ts": 4, "demo.ts": 4,
    "main.ts": 5,
    // the simulator is a separate program inside the binary: it may use lib and the pure parsers only
    sim: 1,
  };
  const rank = table[top];
  if (rank === undefined) throw new Error(`src/${rel}: unknown layer '${top}' — add it to the import-direction table`);
  return { name: top, rank };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function violations(files: Array<{ file: string; text: string }>): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    const rel = relative(SRC, file);
    const from = layerOf(rel);
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const target = relative(SRC, resolve(dirname(file), spec));
      if (target.startsWith("..")) continue; // views/, sql/, package.json: outside src
      const to = layerOf(target);
      const simAllowed = from.name === "sim" && (to.name === "lib" || target.startsWith("modem/parsers") || to.name === "sim" || to.name === "config.ts");
      if (from.name === "sim" ? !simAllowed : to.rank > from.rank || (to.name === "sim" && !["main.ts", "app.ts", "demo.ts", "cli"].includes(from.name))) {
        out.push(`src/${rel} (${from.name}) imports src/${target} (${to.name})`);
      }
    }
  }
  return out;
}

describe("import direction", () => {
  test("no lower layer imports a higher one", () => {
    expect(violations(walk(SRC).map((file) => ({ file, text: readFileSync(file, "utf8") })))).toEqual([]);
  });

  test("the checker catches upward imports and allows downward ones", () => {
    const found = violations([
      { file: join(SRC, "lib", "x.ts"), text: 'import { startApp } from "../app.ts";\n' },
      { file: join(SRC, "db", "x.ts"), text: 'import { EventStream } from "../events/event-stream.ts";\n' },
      { file: join(SRC, "sim", "x.ts"), text: 'import { connect } from "../db/client.ts";\n' },
      { file: join(SRC, "http", "x.ts"), text: 'import { connect } from "../db/client.ts";\nimport { run } from "../lib/exec.ts";\n' },
      { file: join(SRC, "sim", "y.ts"), text: 'import { parseCsqExec } from "../modem/parsers/csq.ts";\n' },
    ]);
    expect(found).toEqual([
      "src/lib/x.ts (lib) imports src/app.ts (app.ts)",
      "src/db/x.ts (db) imports src/events/event-stream.ts (events)",
      "src/sim/x.ts (sim) imports src/db/client.ts (db)",
    ]);
  });
});
