import { expect, test } from "bun:test";
import { deliverPdu, fromUcs2Hex, isGsm7, packSeptets, scts, ucs2Hex } from "../../../src/sim/modem/sms-pdu.ts";

test("GSM 7-bit packing: the 3GPP 23.038 'hellohello' example", () => {
  const septets = [..."hellohello"].map((c) => c.charCodeAt(0));
  expect(packSeptets(septets)).toBe("E8329BFD4697D9EC37");
});

test("UCS-2 hex round trip; GSM alphabet detection", () => {
  expect(ucs2Hex("Hi €")).toBe("00480069002020AC");
  expect(fromUcs2Hex(ucs2Hex("Grüße €"))).toBe("Grüße €");
  expect(fromUcs2Hex("12G4")).toBeUndefined();
  expect(isGsm7("Code 4711, ok?")).toBe(true);
  expect(isGsm7("€ [x]")).toBe(false);
});

test("SMS-DELIVER PDU: SMSC, originator, DCS, timestamp, UDL", () => {
  const date = new Date(Date.UTC(2021, 4, 12, 10, 37, 39));
  const pdu = deliverPdu({ smsc: "+491710760000", from: "+15551230000", text: "hellohello", date });
  expect(pdu.hex).toBe("0791947101670000" + "04" + "0B915155210300F0" + "00" + "00" + "12502101739300" + "0A" + "E8329BFD4697D9EC37");
  expect(pdu.tpduLength).toBe((pdu.hex.length - 16) / 2);
  const ucs = deliverPdu({ smsc: "+491710760000", from: "Telekom", text: "€", date });
  expect(ucs.hex).toContain("D0"); // alphanumeric originator
  expect(ucs.hex.endsWith("0220AC")).toBe(true); // DCS 08 (UCS2), UDL 2, U+20AC
  expect(scts(date)).toBe("21/05/12,10:37:39+00");
});
