/**
 * The demo prints its proxy table only when it is true for this run. Its database outlives a run, so the rows of the
 * last run (online, with that run's public IP) are there before this run's sessions are up and probed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { proxyTableIfReady } from "../../../src/cli/proxies.ts";
import { appendEvent } from "../../../src/db/queries/events.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const NODE = "demo";
let db: TestDb;
const ids: number[] = [];

beforeAll(async () => {
  db = await createTestDb({ prefix: "ptable" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'h')`;
  for (const [i, ip] of ["203.0.113.10", "203.0.113.11"].entries()) {
    const [m] = await db.sql`insert into modems (node_id, imei, state, proxy_port, public_ip)
      values (${NODE}, ${`86600000000010${i}`}, 'online', ${3128 + i}, ${ip}) returning id`;
    ids.push(Number(m!.id));
    // the last run's probe
    await appendEvent(db.sql, { nodeId: NODE, modemId: Number(m!.id), kind: "data.public_ip", payload: { ip } });
  }
  await db.sql`update modem_events set created_at = now() - interval '1 hour'`;
});
afterAll(() => db?.drop());

const ready = (since: Date, probed = true) => proxyTableIfReady(db.sql, { nodeId: NODE, host: "10.0.0.1", modems: 2, since, probed });

test("the last run's rows are not this run's table until every modem has a fresh public-IP probe", async () => {
  const since = new Date(Date.now() - 1000);
  expect(await ready(since)).toBeNull();
  await appendEvent(db.sql, { nodeId: NODE, modemId: ids[0]!, kind: "data.public_ip", payload: { ip: "198.51.100.1" } });
  await db.sql`update modems set public_ip = '198.51.100.1' where id = ${ids[0]!}`;
  expect(await ready(since)).toBeNull();
  await appendEvent(db.sql, { nodeId: NODE, modemId: ids[1]!, kind: "data.public_ip", payload: { ip: "198.51.100.2" } });
  await db.sql`update modems set public_ip = '198.51.100.2' where id = ${ids[1]!}`;
  const list = await ready(since);
  expect(list?.map((p) => [p.port, p.public_ip, p.host])).toEqual([[3128, "198.51.100.1", "10.0.0.1"], [3129, "198.51.100.2", "10.0.0.1"]]);
});

test("a modem that is not online, or fewer ports than modems, is not a table yet; without a probe, online is enough", async () => {
  const since = new Date(Date.now() - 60_000);
  expect(await proxyTableIfReady(db.sql, { nodeId: NODE, host: "h", modems: 3, since, probed: true })).toBeNull();
  await db.sql`update modems set state = 'connecting' where id = ${ids[1]!}`;
  expect(await ready(since)).toBeNull();
  expect(await ready(since, false)).toBeNull();
  await db.sql`update modems set state = 'online' where id = ${ids[1]!}`;
  expect(await ready(new Date(Date.now() + 60_000), false)).toHaveLength(2);
});
