/**
 * Builds the single executable: bun build --compile, with SQL, views, htmx and assets inside.
 *   bun scripts/build.ts            -> dist/lteproxy (this machine's platform)
 *   bun scripts/build.ts --release  -> also dist/lteproxy-linux-x64 and dist/lteproxy-linux-arm64
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const release = process.argv.includes("--release");

function git(args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd: root, stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

const commit = git(["rev-parse", "--short=12", "HEAD"]);
const buildDate = new Date().toISOString();
const targets: Array<{ target?: string; out: string }> = [{ out: "dist/lteproxy" }];
if (release) {
  targets.push({ target: "bun-linux-x64", out: "dist/lteproxy-linux-x64" }, { target: "bun-linux-arm64", out: "dist/lteproxy-linux-arm64" });
}

mkdirSync(join(root, "dist"), { recursive: true });
for (const t of targets) {
  const argv = [
    process.execPath, "build", "--compile", "--minify-syntax", "--sourcemap=none",
    ...(t.target ? [`--target=${t.target}`] : []),
    `--define`, `LTEPROXY_COMMIT=${JSON.stringify(commit)}`,
    `--define`, `LTEPROXY_BUILD_DATE=${JSON.stringify(buildDate)}`,
    "src/main.ts", "src/proxy/engine/splice-worker.ts", "--outfile", t.out,
  ];
  const started = Date.now();
  const r = Bun.spawnSync(argv, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build failed for ${t.out}`);
    process.exit(1);
  }
  console.log(`built ${t.out} (${t.target ?? "native"}) in ${Date.now() - started} ms`);
}
