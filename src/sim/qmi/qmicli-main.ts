/** Stand-alone entry of the lab qmicli: `bun src/sim/qmi/qmicli-main.ts -d DIR/<slot>/qmi …` (see client.ts). */
import { qmicliCommand } from "./client.ts";

process.exitCode = await qmicliCommand(process.argv.slice(2));
