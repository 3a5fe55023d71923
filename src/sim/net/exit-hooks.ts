/**
 * Process-exit safety net: every live lab is destroyed synchronously when the process exits without having called
 * destroy() (a test that forgot, an uncaught error). Signals are the owner's business (see destroyOnSignals in
 * index.ts): a library must not change what Ctrl-C does.
 */
import type { LabNetwork } from "./types.ts";

const live = new Map<string, LabNetwork>();
let installed = false;

function onExit(): void {
  for (const lab of live.values()) {
    try {
      lab.destroySync?.();
    } catch {
      // exiting anyway; cleanupLabs catches what is left
    }
  }
  live.clear();
}

/** Claims `labId` for `lab` in this process; false when another live lab object here already holds it. */
export function claimLab(labId: string, lab: LabNetwork): boolean {
  const holder = live.get(labId);
  if (holder && holder !== lab) return false;
  live.set(labId, lab);
  if (!installed) {
    installed = true;
    process.on("exit", onExit);
  }
  return true;
}

export function releaseLab(labId: string, lab: LabNetwork): void {
  if (live.get(labId) === lab) live.delete(labId);
}
