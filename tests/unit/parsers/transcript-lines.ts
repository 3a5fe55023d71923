/**
 * Test helper: quotes a line from a real device transcript (../shared/reference/transcripts) and checks that the
 * quote is verbatim, so table tests cannot drift from the captured device output. When the reference folder is
 * not present (a checkout without ../shared) the quote is used as is.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const TRANSCRIPT_DIR = join(import.meta.dir, "../../../../shared/reference/transcripts");

const cache = new Map<string, string[] | null>();

/** All lines of a transcript (CR removed), or null when the reference folder is absent. */
export function transcriptLines(file: string): string[] | null {
  if (!cache.has(file)) {
    const p = join(TRANSCRIPT_DIR, file);
    cache.set(file, existsSync(p) ? readFileSync(p, "utf8").split("\n").map((l) => l.replace(/\r$/, "")) : null);
  }
  return cache.get(file) ?? null;
}

/** Returns `line` after checking that it occurs verbatim (as a whole line, or inside one) in the transcript. */
export function quote(file: string, line: string): string {
  const lines = transcriptLines(file);
  if (lines !== null && !lines.some((l) => l === line || l.includes(line))) {
    throw new Error(`quoted line not found in transcript ${file}: ${JSON.stringify(line)}`);
  }
  return line;
}

/** Reads a block of consecutive lines [from, to) (0-based) of a transcript; null when absent. */
export function block(file: string, from: number, to: number): string[] | null {
  const lines = transcriptLines(file);
  return lines === null ? null : lines.slice(from, to);
}

/** Returns a multi-line block after checking that it occurs verbatim in the transcript (TABs included). */
export function quoteBlock(file: string, text: string): string {
  const lines = transcriptLines(file);
  if (lines !== null && !lines.join("\n").includes(text)) {
    throw new Error(`quoted block not found in transcript ${file}: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return text;
}
