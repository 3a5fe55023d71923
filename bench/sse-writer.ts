/**
 * The writer side of bench/sse.ts, in its own process like the modem manager in production: commits modem row
 * changes with their modem_events rows at a fixed rate (batches every 10 ms) and prints { seq: commitTimeMs }.
 *   bun bench/sse-writer.ts <database-url> <rate> <seconds> <comma-separated modem ids>
 */
import { connect } from "../src/db/client.ts";

const [url, rate, seconds, idList] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), process.argv[5]!];
const ids = idList.split(",").map(Number);
const sql = connect(url, { max: 4 });
const BATCH_MS = 10;
const perBatch = Math.max(1, Math.round((rate * BATCH_MS) / 1000));
const total = rate * seconds;
const commitAt: Record<number, number> = {};
const writes: Promise<void>[] = [];
let sent = 0;
let k = 0;
const start = performance.now();
while (sent < total) {
  const wait = start + (sent / rate) * 1000 - performance.now();
  if (wait > 0) await Bun.sleep(wait);
  const batch = Array.from({ length: Math.min(perBatch, total - sent) }, () => ids[k++ % ids.length]!);
  sent += batch.length;
  writes.push((async () => {
    const rows = await sql.begin(async (tx) => {
      await tx`update modems set rsrp = -80 - (random() * 40)::int, updated_at = now() where id = any(${batch}::bigint[])`;
      return tx`insert into modem_events (node_id, modem_id, kind, payload)
                select 'n1', x, 'modem.updated', '{}'::jsonb from unnest(${batch}::bigint[]) as x returning seq`;
    });
    const t = Date.now();
    for (const r of rows) commitAt[Number(r.seq)] = t;
  })());
}
await Promise.all(writes);
const elapsed = (performance.now() - start) / 1000;
console.log(JSON.stringify({ commitAt, elapsed }));
await sql.end();
process.exit(0);
