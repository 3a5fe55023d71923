/** Per-test-file lab registry, so parallel runs and other suites never see each other's labs. */
import fs from "node:fs";
import path from "node:path";
import { fastTmpBase } from "../../../src/sim/registry.ts";

export function isolateRegistry(name: string): string {
  const dir = fs.mkdtempSync(path.join(fastTmpBase(), `ltpx-simtest-${name}-`));
  process.env.LTEPROXY_SIM_DIR = dir;
  return dir;
}

export function removeRegistry(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
