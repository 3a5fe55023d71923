/** Version, commit and build date: injected by scripts/build.ts (--define), read from git in a checkout. */
import pkg from "../package.json" with { type: "json" };

declare const LTEPROXY_COMMIT: string | undefined;
declare const LTEPROXY_BUILD_DATE: string | undefined;

function gitCommit(): string {
  try {
    const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir, stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof LTEPROXY_COMMIT === "string" ? LTEPROXY_COMMIT : gitCommit();
export const BUILD_DATE: string = typeof LTEPROXY_BUILD_DATE === "string" ? LTEPROXY_BUILD_DATE : "dev";

export function versionLine(): string {
  return `lteproxy ${VERSION} (commit ${COMMIT}, built ${BUILD_DATE}, bun ${Bun.version}, ${process.platform}-${process.arch})`;
}
