/**
 * Prints "N passed, N failed, N skipped" from bun's JUnit report: the closing line CI reads.
 * A missing or unreadable report counts as one failure, never as a pass.
 */
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results/junit.xml";
if (!existsSync(file)) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const xml = readFileSync(file, "utf8");
const head = xml.match(/<testsuites\b[^>]*>/)?.[0];
const attr = (name: string) => Number(head?.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? NaN);
const tests = attr("tests");
const failures = attr("failures") + (Number.isNaN(attr("errors")) ? 0 : attr("errors"));
const skipped = attr("skipped");
if (!head || Number.isNaN(tests) || Number.isNaN(failures)) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const skip = Number.isNaN(skipped) ? 0 : skipped;
const passed = tests - failures - skip;
console.log(`${passed} passed, ${failures} failed${skip ? `, ${skip} skipped` : ""}`);
process.exit(failures > 0 || tests === 0 ? 1 : 0);
