import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnLogSpool, CURRENT_FILE, type ConnLogEntry } from "../../../src/proxy/engine/conn-log-spool.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "lteproxy-spool-"));
  dirs.push(d);
  return d;
}

const entry = (i: number): ConnLogEntry => ({
  ts: new Date(0).toISOString(),
  port: 3128,
  portId: "866",
  client: "127.0.0.1:5000",
  user: "alice",
  target: `t${i}:80`,
  proto: "http",
  up: i,
  down: 2 * i,
  ms: 1,
  result: "ok",
  status: 200,
});

const rolled = (dir: string) => readdirSync(dir).filter((f) => f !== CURRENT_FILE).sort();
const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as ConnLogEntry);

describe("ConnLogSpool", () => {
  test("rolls every rollEntries entries, in order, nothing lost", () => {
    const dir = tmp();
    const s = new ConnLogSpool({ dir, rollSeconds: 3600, rollEntries: 10 });
    for (let i = 0; i < 25; i++) s.write(entry(i));
    s.flush();
    expect(rolled(dir).length).toBe(2);
    s.close();
    const files = rolled(dir);
    expect(files.length).toBe(3);
    const all = files.flatMap((f) => lines(join(dir, f)));
    expect(all.map((e) => e.up)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(lines(join(dir, files[0])).length).toBe(10);
    expect(s.written).toBe(25);
  });

  test("rolls on time when there is something to roll", async () => {
    const dir = tmp();
    const s = new ConnLogSpool({ dir, rollSeconds: 0.1, rollEntries: 1000, flushMs: 20 });
    await Bun.sleep(250);
    expect(rolled(dir)).toEqual([]);
    s.write(entry(1));
    await Bun.sleep(300);
    expect(rolled(dir).length).toBe(1);
    s.close();
  });

  test("hands over a current.jsonl left by a crash", () => {
    const dir = tmp();
    writeFileSync(join(dir, CURRENT_FILE), JSON.stringify(entry(7)) + "\n");
    const s = new ConnLogSpool({ dir, rollSeconds: 3600, rollEntries: 10 });
    const files = rolled(dir);
    expect(files.length).toBe(1);
    expect(lines(join(dir, files[0]))[0].up).toBe(7);
    s.close();
  });

  test("an unwritable directory drops nothing until the bound, and says so", () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "not a directory");
    const s = new ConnLogSpool({ dir: join(dir, "file", "sub"), rollSeconds: 3600, rollEntries: 10, maxPending: 5 });
    for (let i = 0; i < 8; i++) s.write(entry(i));
    s.flush();
    expect(s.written).toBe(0);
    expect(s.dropped).toBe(3);
    s.close();
  });
});
