/**
 * SSE end to end in-process: a row update committed with a modem_events row reaches the dashboard stream as
 * exactly that row (never the table), with `id: <seq>`; a reconnect with Last-Event-ID replays what was missed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeHarness, request, seedModems, type Harness } from "./harness.ts";
import { SseReader } from "./sse-reader.ts";
import { appendEvent, lastEventSeq } from "../../../src/db/queries/events.ts";

let h: Harness;
let ids: number[];
beforeAll(async () => {
  h = await makeHarness();
  ids = await seedModems(h.db, 6);
});
afterAll(async () => {
  await h.close();
});

async function open(path: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const res = await request(h.app, "GET", path, { cookie: h.cookies.viewer, htmx: false, headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(res.headers.get("cache-control")).toContain("no-cache");
  return new SseReader(res);
}

/** Changes a modem and records the event in one transaction, as the modem manager does. */
async function changeModem(id: number, rsrp: number, kind = "modem.updated", state = "online"): Promise<number> {
  return h.db.sql.begin(async (tx) => {
    await tx`update modems set rsrp = ${rsrp}, state = ${state}, updated_at = now() where id = ${id}`;
    return appendEvent(tx as never, { nodeId: "n1", modemId: id, kind, payload: { rsrp } });
  }) as Promise<number>;
}

const partialsIn = (data: string) => [...data.matchAll(/<hx-partial hx-target="([^"]+)" hx-swap="([^"]+)">/g)].map((m) => `${m[1]} ${m[2]}`);

describe("dashboard stream", () => {
  test("preamble, then one message per change holding only the changed row and the counters, with id = seq", async () => {
    const s = await open(`/sse/dashboard?after=${await lastEventSeq(h.db.sql)}`);
    try {
      await s.until((t) => t.includes("retry: 2000\n\n"));
      expect(s.text).toBe(": connected\n\nretry: 2000\n\n");
      const seq = await changeModem(ids[2]!, -77);
      const wireBefore = s.text.length;
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      expect(partialsIn(msg.data)).toEqual([`#modem-${ids[2]} outerHTML`, "#counters outerHTML"]);
      expect(msg.data).toContain(`<tr id="modem-${ids[2]}"`);
      expect(msg.data).toContain(">-77/");
      expect(msg.data).not.toContain(`id="modem-${ids[1]}"`);
      expect(msg.data).not.toContain("<table");
      // exact wire form: data lines, then the id line, then a blank line
      const wire = s.text.slice(wireBefore);
      expect(wire).toMatch(new RegExp(`^data: <hx-partial[^\\n]*\\n(data: [^\\n]*\\n)*id: ${seq}\\n\\n$`));
    } finally {
      await s.close();
    }
  });

  test("a batched health sweep ({modemIds}) sends those rows in one message; state changes move the counters", async () => {
    const s = await open(`/sse/dashboard?after=${await lastEventSeq(h.db.sql)}`);
    try {
      await h.db.sql`update modems set state = 'failed' where id = ${ids[0]}`;
      await h.db.sql`update modems set rsrp = -101 where id = ${ids[1]}`;
      const seq = await appendEvent(h.db.sql, { nodeId: "n1", kind: "health.sweep", payload: { modemIds: [ids[0], ids[1]] } });
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      expect(partialsIn(msg.data)).toEqual([`#modem-${ids[0]} outerHTML`, `#modem-${ids[1]} outerHTML`, "#counters outerHTML"]);
      expect(msg.data).toMatch(/<b>1<\/b> failed/);
      expect(msg.data).toContain("state-failed");
    } finally {
      await s.close();
    }
  });

  test("counters ride along only when they change: a signal burst sends rows or cells, a state change sends counters", async () => {
    const s = await open(`/sse/dashboard?after=${await lastEventSeq(h.db.sql)}`);
    const upTo = async (seq: number) => {
      await s.until(() => s.messages.some((m) => Number(m.id) >= seq));
      return s.messages.filter((m) => m.data !== "");
    };
    try {
      const seq1 = await changeModem(ids[3]!, -90);
      const [first] = await upTo(seq1);
      expect(partialsIn(first!.data)[0]).toBe(`#modem-${ids[3]} outerHTML`);
      await changeModem(ids[3]!, -91);
      const seq2 = await changeModem(ids[4]!, -92);
      const burst = (await upTo(seq2)).slice(1);
      expect(burst.map((m) => m.data).join("")).toContain(">-92/");
      // modem 4's second change is a signal change: only its signal cell travels
      expect(burst.flatMap((m) => partialsIn(m.data))).toContain(`#modem-${ids[3]}>:nth-child(7) innerHTML`);
      expect(burst.map((m) => m.data).join("")).toContain(`<hx-partial hx-target="#modem-${ids[3]}>:nth-child(7)" hx-swap="innerHTML"><i class="bars b`);
      expect(burst.flatMap((m) => partialsIn(m.data))).not.toContain("#counters outerHTML");
      const seq3 = await changeModem(ids[4]!, -93, "modem.state", "degraded");
      const last = (await upTo(seq3)).at(-1)!;
      expect(partialsIn(last.data)).toEqual([`#modem-${ids[4]} outerHTML`, "#counters outerHTML"]);
      expect(last.data).toMatch(/<b>1<\/b> degraded/);
    } finally {
      await s.close();
      await changeModem(ids[4]!, -60, "modem.state", "online");
    }
  });

  test("reconnect with Last-Event-ID replays the rows changed while away, once, in one message", async () => {
    const first = await open(`/sse/dashboard?after=${await lastEventSeq(h.db.sql)}`);
    const seq1 = await changeModem(ids[3]!, -81);
    const m1 = await first.message(1);
    expect(m1.id).toBe(String(seq1));
    await first.close();
    // while disconnected: two changes to modem 5, one to modem 6
    await changeModem(ids[4]!, -82);
    await changeModem(ids[4]!, -83);
    const last = await changeModem(ids[5]!, -84);
    const again = await open(`/sse/dashboard?after=0`, { "last-event-id": m1.id! });
    try {
      const replay = await again.message(1);
      expect(replay.id).toBe(String(last));
      expect(partialsIn(replay.data)).toEqual([`#modem-${ids[4]} outerHTML`, `#modem-${ids[5]} outerHTML`, "#counters outerHTML"]);
      expect(replay.data).toContain(">-83/");
      // live updates continue after the replay, not duplicated
      const next = await changeModem(ids[0]!, -70);
      const live = await again.message(2);
      expect(live.id).toBe(String(next));
      expect(again.messages.filter((m) => m.data).length).toBe(2);
    } finally {
      await again.close();
    }
  });

  test("events committed between page render and SSE connect are replayed from ?after", async () => {
    const rendered = await lastEventSeq(h.db.sql);
    const seq = await changeModem(ids[1]!, -88);
    await h.events.waitFor(seq);
    const s = await open(`/sse/dashboard?after=${rendered}`);
    try {
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      expect(msg.data).toContain(">-88/");
    } finally {
      await s.close();
    }
  });

  test("a node-filtered stream gets only that node's rows", async () => {
    await h.db.sql`insert into nodes (id, hostname) values ('n2', 'box-2')`;
    const [other] = await seedModems(h.db, 1, "n2");
    const s = await open(`/sse/dashboard?node=n2&after=${await lastEventSeq(h.db.sql)}`);
    try {
      await changeModem(ids[0]!, -71);
      const seq = await changeModem(other!, -72);
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      // n2's counters did not change (the page shows them): only the row
      expect(partialsIn(msg.data)).toEqual([`#modem-${other} outerHTML`]);
    } finally {
      await s.close();
    }
  });
});

describe("modem and events streams", () => {
  test("modem page: status panel, timeline entry and job progress for that modem only", async () => {
    const s = await open(`/sse/modems/${ids[2]}?after=${await lastEventSeq(h.db.sql)}`);
    try {
      await changeModem(ids[3]!, -60); // another modem: nothing
      const seq = await appendEvent(h.db.sql, { nodeId: "n1", modemId: ids[2], kind: "rotation.progress", payload: { jobId: "0000aaaa-0000-4000-8000-000000000001", action: "rotate", status: "running", message: "airplane on" } });
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      expect(partialsIn(msg.data)).toEqual(["#modem-status outerHTML", "#timeline afterbegin", "#job-0000aaaa-0000-4000-8000-000000000001 outerHTML"]);
      expect(msg.data).toContain("airplane on");
    } finally {
      await s.close();
    }
  });

  test("events page: one message per event, filtered by kind prefix, ids are sequence numbers", async () => {
    const s = await open(`/sse/events?kind=alert.&after=${await lastEventSeq(h.db.sql)}`);
    try {
      await appendEvent(h.db.sql, { nodeId: "n1", kind: "modem.updated", modemId: ids[0] });
      const a = await appendEvent(h.db.sql, { nodeId: "n1", kind: "alert.opened", payload: { message: "<b>hub 2 down</b>" } });
      const b = await appendEvent(h.db.sql, { nodeId: "n1", kind: "alert.resolved", payload: { message: "ok" } });
      await s.message(2);
      expect(s.messages.filter((m) => m.data).map((m) => m.id)).toEqual([String(a), String(b)]);
      expect(s.messages[0]!.data).toContain("&lt;b&gt;hub 2 down&lt;/b&gt;");
      expect(s.messages[0]!.data).not.toContain("<b>hub 2 down");
    } finally {
      await s.close();
    }
  });

  test("a bad Last-Event-ID is ignored, an unknown modem or bad query is a 4xx, never a 500", async () => {
    const s = await open(`/sse/dashboard`, { "last-event-id": "drop table" });
    await s.close();
    expect((await request(h.app, "GET", "/sse/modems/abc", { cookie: h.cookies.viewer, htmx: false })).status).toBe(422);
    expect((await request(h.app, "GET", "/sse/dashboard?after=-5", { cookie: h.cookies.viewer, htmx: false })).status).toBe(422);
  });
});

describe("SMS on the modem stream", () => {
  test("a new SMS reloads the technician's list through a role-checked GET; the stream itself never carries the text", async () => {
    const id = ids[4]!;
    const secret = "code 482913 <b>x</b>";
    const s = await open(`/sse/modems/${id}?after=${await lastEventSeq(h.db.sql)}`);
    try {
      await s.until((t) => t.includes("retry: 2000\n\n"));
      const seq = await h.db.sql.begin(async (tx) => {
        await tx`insert into sms_messages (modem_id, direction, peer, body) values (${id}, 'in', '+4915100000000', ${secret})`;
        return appendEvent(tx as never, { nodeId: "n1", modemId: id, kind: "sms.received", payload: { smsId: 1, length: secret.length } });
      });
      const msg = await s.message(1);
      expect(msg.id).toBe(String(seq));
      expect(partialsIn(msg.data)).toContain("#sms-poke outerHTML");
      expect(msg.data).toContain(`hx-get="/modems/${id}/sms"`);
      expect(msg.data).not.toContain("482913");
    } finally {
      await s.close();
    }
    // the placeholder exists on a technician's page only, and the list itself is for technicians
    const page = (role: "technician" | "viewer") => request(h.app, "GET", `/modems/${id}`, { cookie: h.cookies[role], htmx: false }).then((r) => r.text());
    expect(await page("technician")).toContain('id="sms-poke"');
    expect(await page("viewer")).not.toContain('id="sms-poke"');
    const list = await request(h.app, "GET", `/modems/${id}/sms`, { cookie: h.cookies.technician });
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain('id="sms-list"');
    expect(html).toContain("code 482913 &lt;b&gt;x&lt;/b&gt;");
    expect((await request(h.app, "GET", `/modems/${id}/sms`, { cookie: h.cookies.viewer })).status).toBe(403);
  });
});
