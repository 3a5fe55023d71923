/**
 * Fleet rule (issue 4 item 7): two nodes share one database. Each sees modems with the same IMEIs (two labs of the
 * same seed); each keeps its own rows and never reads or writes the other node's.
 */
import { afterAll, expect, test } from "bun:test";
import { startRig, until, type Rig } from "./helpers.ts";

let rig: Rig;
afterAll(async () => rig?.stop());

test("a second node sharing the database never touches this node's modems", async () => {
  rig = await startRig(["node-a", "node-b"]);
  const labA = await rig.startLab({ modems: 4, seed: 41 });
  const labB = await rig.startLab({ modems: 4, seed: 41 }); // same IMEIs, other box
  expect(labB.modems.map((m) => m.identity.imei)).toEqual(labA.modems.map((m) => m.identity.imei));

  const a = rig.newManager(labA.info, { nodeId: "node-a" });
  await a.start();
  await until(() => a.list().filter((m) => m.state === "registered").length === 4, "node-a registered");
  const rowsA = await rig.sql`select id, state, updated_at, state_since from modems where node_id = 'node-a' order by id`;
  const eventsA = Number((await rig.sql`select count(*)::int as n from modem_events where node_id = 'node-a'`)[0]!.n);
  await a.stop(); // node-a's control plane down: node-b's start must not mark node-a's modems absent

  const b = rig.newManager(labB.info, { nodeId: "node-b" });
  await b.start();
  await until(() => b.list().filter((m) => m.state === "registered").length === 4, "node-b registered");
  await labB.ctl("1", "unplug");
  await until(() => b.get(labB.modems[1]!.identity.imei)?.state === "unplugged", "node-b modem 1 unplugged");

  // node-b has its own rows for the same IMEIs
  expect(b.list().map((m) => m.id).sort()).not.toEqual(rowsA.map((r) => r.id).sort());
  expect(b.list()).toHaveLength(4);
  // node-a's rows and events are exactly as node-a left them
  const rowsA2 = await rig.sql`select id, state, updated_at, state_since from modems where node_id = 'node-a' order by id`;
  expect(rowsA2).toEqual(rowsA);
  expect(Number((await rig.sql`select count(*)::int as n from modem_events where node_id = 'node-a'`)[0]!.n)).toBe(eventsA);
  expect(Number((await rig.sql`
    select count(*)::int as n from modem_events e join modems m on m.id = e.modem_id
    where m.node_id = 'node-a' and e.node_id <> 'node-a'`)[0]!.n)).toBe(0);
  // and node-b cannot address them
  const err = await b.setState(Number(rowsA[0]!.id), "disabled", "test").catch((e) => e);
  expect(err.code).toBe("MODEM_NOT_FOUND");
  expect(b.get(Number(rowsA[0]!.id))).toBeUndefined();
}, 60_000);
