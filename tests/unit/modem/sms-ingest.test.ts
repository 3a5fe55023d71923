/**
 * SMS ingestion (src/modem/sms-ingest.ts): the +CMTI parser, the row a listing entry becomes, and a sweep through the
 * real AT engine and EC25 driver on a scripted pty modem whose storage holds a garbage PDU next to good messages:
 * the garbage is kept as raw text and deleted, a failed store leaves its message on the SIM (no AT+CMGD), a repeat
 * store is a duplicate that is deleted all the same.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { openAtChannel } from "../../../src/modem/at/open-at-channel.ts";
import { Ec25Driver } from "../../../src/modem/ec25.ts";
import { incomingOf, parseCmtiUrc, sweepSms, ingestIndex } from "../../../src/modem/sms-ingest.ts";
import type { SmsMessage } from "../../../src/modem/parsers/sms.ts";
import type { IncomingSms } from "../../../src/db/queries/sms.ts";
import { childLogger } from "../../../src/lib/logger.ts";
import { ok, startScriptedModem } from "../../helpers/scripted-modem.ts";

describe("parseCmtiUrc", () => {
  test.each([
    ['+CMTI: "SM",3', { storage: "SM", index: 3 }],
    ['+CMTI: "ME",12', { storage: "ME", index: 12 }],
    ['+cmti: "sm", 0 ', { storage: "SM", index: 0 }],
    ['+CMTI: "SM",', null],
    ['+CMTI: "SM",abc', null],
    ["+CMTI: 3", null],
    ['+CMTI: "SM",99999', null],
    ["garbage\u0000\u00ff", null],
    ["", null],
  ] as const)("%p", (line, want) => {
    expect(parseCmtiUrc(line)).toEqual(want as never);
  });
});

const base: SmsMessage = {
  index: 4, status: "REC UNREAD", mode: "text", sender: "+4915112345678", timestamp: "2024-11-25T10:00:00+01:00",
  timestampRaw: "24/11/25,10:00:00+04", text: "hello", pdu: null, concat: null, decodeError: null,
};

describe("incomingOf", () => {
  test("a received message becomes an 'in' row with the SMSC time in UTC", () => {
    expect(incomingOf(7, base, 4)).toEqual({ modemId: 7, peer: "+4915112345678", body: "hello", modemIndex: 4, sentAt: "2024-11-25T09:00:00.000Z" });
  });
  test("stored outgoing messages are not ours", () => {
    expect(incomingOf(7, { ...base, status: "STO SENT" }, 4)).toBeNull();
    expect(incomingOf(7, { ...base, status: "STO UNSENT" }, 4)).toBeNull();
  });
  test("an undecodable PDU is kept as raw text; NUL is replaced; bad times and missing senders are tolerated", () => {
    const row = incomingOf(7, { ...base, mode: "pdu", sender: null, timestamp: "2024-13-45T99:00:00+01:00", text: null, pdu: "0791AB", decodeError: "truncated PDU at OA" }, 4)!;
    expect(row.body).toBe("[undecodable SMS: truncated PDU at OA] 0791AB");
    expect(row.peer).toBe("unknown");
    expect(row.sentAt).toBeNull();
    expect(incomingOf(7, { ...base, text: "a\u0000b" }, 4)!.body).toBe("a\uFFFDb");
  });
});

describe("a sweep over a scripted modem (real pty, AT engine, EC25 driver)", () => {
  const modem = startScriptedModem({
    echo: false,
    rules: [
      { match: "AT+CMGF=1", reply: ok() },
      {
        match: 'AT+CMGL="ALL"',
        reply: ok(
          "+CMGL: 0,0,,24", "0791947106004034040C91945151214365", // an SMS-DELIVER cut off after the sender
          "+CMGL: 1,1,,9", "07919471ZZ", // not even hex: kept as a listing entry without a PDU line
          '+CMGL: 2,"REC UNREAD","+4915100000002",,"24/11/25,10:00:00+04"', "store me",
          '+CMGL: 3,"REC UNREAD","+4915100000003",,"24/11/25,10:00:01+04"', "the store fails for me",
          '+CMGL: 5,"STO SENT","+4915100000005",,', "an outgoing copy",
        ),
      },
      { match: /^AT\+CMGD=\d+$/, reply: ok() },
      { match: "AT+CMGR=9", reply: ok('+CMGR: "REC UNREAD","+4915100000009",,"24/11/25,10:00:09+04"', "via cmti") },
      { match: "AT+CMGR=8", reply: ok() },
    ],
  });
  afterAll(() => modem.close());

  test("garbage is stored raw and deleted, a failed store is not deleted, outgoing copies stay, duplicates are deleted", async () => {
    const channel = await openAtChannel(modem.path, { hangupPollMs: 50 });
    try {
      const driver = new Ec25Driver(channel);
      const stored: IncomingSms[] = [];
      const deps = {
        modemId: 1, driver, log: childLogger("test"),
        async store(m: IncomingSms) {
          if (m.body.includes("store fails")) throw new Error("connection refused");
          const dup = stored.findIndex((s) => s.body === m.body && s.peer === m.peer && s.sentAt === m.sentAt);
          if (dup >= 0) return { id: dup + 1, inserted: false };
          stored.push(m);
          return { id: stored.length, inserted: true };
        },
      };
      const first = await sweepSms(deps);
      expect(first).toEqual({ stored: 3, duplicates: 0, skipped: 1, failed: 1 });
      expect(stored.map((s) => s.modemIndex)).toEqual([0, 1, 2]);
      expect(stored[0]!.body).toStartWith("[undecodable SMS: ");
      expect(stored[1]!.body).toStartWith("[undecodable SMS: ");
      expect(stored[2]).toMatchObject({ peer: "+4915100000002", body: "store me", sentAt: "2024-11-25T09:00:00.000Z" });
      const deletes = () => modem.commands.filter((c) => c.startsWith("AT+CMGD="));
      // deleted exactly the stored ones: not the failed store (3) nor the outgoing copy (5)
      expect(deletes()).toEqual(["AT+CMGD=0", "AT+CMGD=1", "AT+CMGD=2"]);
      // the same listing again (the deletes "failed" from the sweep's point of view): duplicates, deleted again
      const second = await sweepSms(deps);
      expect(second).toEqual({ stored: 0, duplicates: 3, skipped: 1, failed: 1 });
      expect(stored.length).toBe(3);
      // the +CMTI path: one slot read and moved; an empty slot is fine
      expect(await ingestIndex(deps, 9)).toBe("stored");
      expect(stored.at(-1)).toMatchObject({ body: "via cmti", modemIndex: 9 });
      expect(await ingestIndex(deps, 8)).toBe("empty");
      expect(deletes().at(-1)).toBe("AT+CMGD=9");
    } finally {
      await channel.close();
    }
  }, 15_000);
});
