/**
 * How to run this same program again as another command (the data plane `lteproxy proxy`, the lab qmicli):
 * the compiled executable runs itself; a checkout runs `bun src/main.ts`.
 */
import { join, resolve } from "node:path";

export function selfCommand(): string[] {
  // In a `bun build --compile` executable, modules live in the embedded /$bunfs file system.
  if (import.meta.path.startsWith("/$bunfs") || import.meta.path.startsWith("B:\\~BUN")) return [process.execPath];
  return [process.execPath, resolve(join(import.meta.dir, "..", "main.ts"))];
}
