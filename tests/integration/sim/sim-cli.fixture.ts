/** Runs `lteproxy sim …` the way src/main.ts will: `bun sim-cli.fixture.ts <args after "sim">`. */
import { simCommand } from "../../../src/sim/cli.ts";

process.exit(await simCommand(process.argv.slice(2)));
