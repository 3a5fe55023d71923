import { describe, expect, test } from "bun:test";
import {
  cbsAlphabet,
  decodeGsm7Packed,
  decodeScts,
  decodeSmsDeliverPdu,
  decodeUcs2Hex,
  encodeUcs2Hex,
  hexToBytes,
  parseCmglExec,
  parseCmglWrite,
  parseCmgrWrite,
  parseCmgsWrite,
  parseCusdRead,
  parseCusdUrc,
  parseCusdWrite,
  sctsTextToIso,
  smsAlphabet,
} from "../../../src/modem/parsers/index.ts";
import { okValue } from "./expect-ok.ts";

/** Test-side GSM 7-bit packer (LSB first), starting at a bit offset, for building PDUs independently of the decoder. */
function pack7(septets: number[], prefix: number[] = [], startBit = prefix.length * 8): string {
  const totalBits = startBit + septets.length * 7;
  const out = new Array<number>(Math.ceil(totalBits / 8)).fill(0);
  prefix.forEach((b, i) => (out[i] = b));
  septets.forEach((s, i) => {
    for (let b = 0; b < 7; b++) {
      const bit = startBit + i * 7 + b;
      if ((s >> b) & 1) out[bit >> 3] |= 1 << (bit & 7);
    }
  });
  return out.map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe("SMS-DELIVER PDU decoder", () => {
  test("the classic GSM 7-bit example (SMSC, unknown-type sender, +02:00 offset)", () => {
    const v = okValue(decodeSmsDeliverPdu("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"));
    expect(v).toEqual({
      smsc: "+27381000015",
      sender: "27838890001",
      senderType: "unknown",
      pid: 0,
      dcs: 0,
      alphabet: "gsm7",
      timestamp: "1999-03-29T15:16:59+02:00",
      text: "hellohello",
      concat: null,
    });
  });

  test("UCS2 user data, international sender, no SMSC", () => {
    const text = "Привет";
    const ud = encodeUcs2Hex(text);
    const pdu = `00040B911346610089F6000842105131540340${(ud.length / 2).toString(16).padStart(2, "0")}${ud}`;
    const v = okValue(decodeSmsDeliverPdu(pdu));
    expect(v).toMatchObject({ smsc: null, sender: "+31641600986", senderType: "international", alphabet: "ucs2", text, timestamp: "2024-01-15T13:45:30+01:00" });
  });

  test("GSM 7-bit with a concatenation header, fill bits and the extension table", () => {
    const udh = [0x05, 0x00, 0x03, 0x2a, 0x02, 0x01];
    const septets = [...ascii("Price: "), 0x1b, 0x65, ...ascii(" 5 "), 0x1b, 0x3c, 0x00, 0x1b, 0x3e];
    // header = 6 octets = 48 bits → user text starts at septet 7 (bit 49)
    const ud = pack7(septets, udh, 49);
    const udl = (7 + septets.length).toString(16).padStart(2, "0");
    const pdu = `00440B911346610089F6000042105131540348${udl}${ud}`;
    const v = okValue(decodeSmsDeliverPdu(pdu));
    expect(v.text).toBe("Price: € 5 [@]");
    expect(v.concat).toEqual({ ref: 0x2a, total: 2, seq: 1 });
    // 0x48: first semi-octet 8 = sign bit + tens digit 0, second semi-octet 4 → −4 quarters = −01:00
    expect(v.timestamp).toBe("2024-01-15T13:45:30-01:00");
  });

  test("alphanumeric sender", () => {
    const oa = pack7(ascii("Google"));
    // 6 septets = 42 bits → 11 semi-octets (0x0B), type 0xD0 = alphanumeric
    const pdu = `00040BD0${oa}00004210513154034005${pack7(ascii("Hello"))}`;
    const v = okValue(decodeSmsDeliverPdu(pdu));
    expect(v.sender).toBe("Google");
    expect(v.senderType).toBe("alphanumeric");
    expect(v.text).toBe("Hello");
  });

  test("UCS2 with a 16-bit-reference concatenation header", () => {
    const udh = "06080401020302"; // UDHL 6; IEI 08, length 4: ref 0x0102, total 3, seq 2
    const ud = udh + encodeUcs2Hex("часть 2");
    const pdu = `00440B911346610089F6000842105131540340${(ud.length / 2).toString(16).padStart(2, "0")}${ud}`;
    const v = okValue(decodeSmsDeliverPdu(pdu));
    expect(v.concat).toEqual({ ref: 0x0102, total: 3, seq: 2 });
    expect(v.text).toBe("часть 2");
  });

  test("8-bit data is returned as hex", () => {
    const v = okValue(decodeSmsDeliverPdu("00040B911346610089F600044210513154034003CAFE01"));
    expect(v).toMatchObject({ alphabet: "8bit", text: "CAFE01" });
  });

  test("errors: truncated, not DELIVER, not hex", () => {
    expect(decodeSmsDeliverPdu("07917283010010F5040BC872388809").ok).toBe(false);
    const submit = decodeSmsDeliverPdu("0011000B916407281553F80000AA0AE8329BFD4697D9EC37");
    expect(submit.ok).toBe(false);
    expect(!submit.ok && submit.error).toContain("not an SMS-DELIVER");
    expect(decodeSmsDeliverPdu("zz").ok).toBe(false);
    expect(decodeSmsDeliverPdu("").ok).toBe(false);
    expect(decodeSmsDeliverPdu(undefined as unknown as string).ok).toBe(false);
  });

  test("helpers", () => {
    expect(smsAlphabet(0x00)).toBe("gsm7");
    expect(smsAlphabet(0x08)).toBe("ucs2");
    expect(smsAlphabet(0x04)).toBe("8bit");
    expect(smsAlphabet(0xf4)).toBe("8bit");
    expect(smsAlphabet(0xe0)).toBe("ucs2");
    expect(decodeScts(hexToBytes("99309251619580")!)).toBe("1999-03-29T15:16:59+02:00");
    expect(decodeScts(hexToBytes("99FF9251619580")!)).toBeNull();
    expect(decodeScts(new Uint8Array(3))).toBeNull();
    expect(decodeGsm7Packed(hexToBytes("E8329BFD4697D9EC37")!, 10)).toBe("hellohello");
  });
});

describe("UCS2 helpers", () => {
  test("round trip and bad input", () => {
    expect(decodeUcs2Hex("004800690021")).toBe("Hi!");
    expect(decodeUcs2Hex(encodeUcs2Hex("Ünïcødé ✓"))).toBe("Ünïcødé ✓");
    expect(decodeUcs2Hex("00480")).toBeNull();
    expect(decodeUcs2Hex("zzzz")).toBeNull();
    expect(decodeUcs2Hex("")).toBeNull();
  });
});

describe("CMGL / CMGR text mode", () => {
  // ec25.md §4.6 [MAN format; values illustrative]
  const list = [
    '+CMGL: 1,"REC UNREAD","+15551230000",,"21/05/12,10:37:39+08"',
    "Hello",
    '+CMGL: 2,"REC READ","+15551230001","Bob","21/05/13,08:00:00-20"',
    "two",
    "lines",
    '+CMGL: 3,"STO UNSENT","+15551230002",,',
    "draft",
  ];
  test("list", () => {
    const v = okValue(parseCmglWrite(list));
    expect(v).toHaveLength(3);
    expect(v[0]).toEqual({
      index: 1,
      status: "REC UNREAD",
      mode: "text",
      sender: "+15551230000",
      timestamp: "2021-05-12T10:37:39+02:00",
      timestampRaw: "21/05/12,10:37:39+08",
      text: "Hello",
      pdu: null,
      concat: null,
      decodeError: null,
    });
    expect(v[1]).toMatchObject({ index: 2, status: "REC READ", timestamp: "2021-05-13T08:00:00-05:00", text: "two\nlines" });
    expect(v[2]).toMatchObject({ index: 3, status: "STO UNSENT", timestamp: null, text: "draft" });
    expect(okValue(parseCmglExec(list))).toEqual(v);
  });
  test("UCS2 charset decodes text and sender", () => {
    const v = okValue(parseCmglWrite([`+CMGL: 4,"REC READ","${encodeUcs2Hex("+7900")}",,"24/01/15,13:45:30+04"`, encodeUcs2Hex("Привет")], { charset: "UCS2" }));
    expect(v[0]).toMatchObject({ sender: "+7900", text: "Привет" });
  });
  test("empty list, orphan text and garbage", () => {
    expect(okValue(parseCmglWrite([]))).toEqual([]);
    expect(parseCmglWrite(["orphan text"]).ok).toBe(false);
    const v = okValue(parseCmglWrite(["+CMGL: x,garbage"]));
    expect(v[0]).toMatchObject({ index: null, status: null, text: "" });
  });
  test("CMGR text", () => {
    const v = okValue(parseCmgrWrite(['+CMGR: "REC READ","+15551230000",,"21/05/12,10:37:39+08"', "Hello again"]));
    expect(v).toMatchObject({ index: null, status: "REC READ", sender: "+15551230000", text: "Hello again", mode: "text" });
    expect(parseCmgrWrite([]).ok).toBe(false);
  });
  test("sctsTextToIso", () => {
    expect(sctsTextToIso('"22/01/20,19:28:12-24"')).toBe("2022-01-20T19:28:12-06:00");
    expect(sctsTextToIso("nonsense")).toBeNull();
  });
});

describe("CMGL / CMGR PDU mode", () => {
  const pdu = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";
  test("list with a decodable and a broken PDU", () => {
    const v = okValue(parseCmglWrite([`+CMGL: 0,1,,${(pdu.length / 2 - 8).toString()}`, pdu, "+CMGL: 1,0,,5", "ABCD"]));
    expect(v[0]).toMatchObject({ index: 0, status: "REC READ", mode: "pdu", sender: "27838890001", text: "hellohello", timestamp: "1999-03-29T15:16:59+02:00", pdu, decodeError: null });
    expect(v[1]).toMatchObject({ index: 1, status: "REC UNREAD", mode: "pdu", text: null });
    expect(v[1].decodeError).toContain("PDU");
  });
  test("CMGR PDU and missing PDU line", () => {
    expect(okValue(parseCmgrWrite(["+CMGR: 1,,24", pdu]))).toMatchObject({ mode: "pdu", text: "hellohello" });
    expect(okValue(parseCmgrWrite(["+CMGR: 1,,24"]))).toMatchObject({ decodeError: "missing PDU line" });
  });
  test("CMGS message reference [T 23 via ec25.md §4.6]", () => {
    expect(okValue(parseCmgsWrite(["+CMGS: 13"]))).toEqual({ messageReference: 13 });
    expect(parseCmgsWrite(["+CMGS:"]).ok).toBe(false);
  });
});

describe("CUSD", () => {
  test("URC with GSM text", () => {
    expect(okValue(parseCusdUrc('+CUSD: 0,"Your balance is 5.00 EUR",15'))).toEqual({
      m: 0,
      status: "done",
      text: "Your balance is 5.00 EUR",
      raw: "Your balance is 5.00 EUR",
      dcs: 15,
    });
  });
  test("UCS2 by DCS 72 and by charset", () => {
    const hex = encodeUcs2Hex("Баланс: 5");
    expect(okValue(parseCusdUrc(`+CUSD: 1,"${hex}",72`))).toMatchObject({ status: "action_required", text: "Баланс: 5", raw: hex });
    expect(okValue(parseCusdUrc(`+CUSD: 0,"${hex}",15`, { charset: "UCS2" })).text).toBe("Баланс: 5");
    // DCS 15 without UCS2 charset: hex-looking text stays as printed
    expect(okValue(parseCusdUrc('+CUSD: 0,"1234",15')).text).toBe("1234");
  });
  test("status only and not supported", () => {
    expect(okValue(parseCusdUrc("+CUSD: 2"))).toEqual({ m: 2, status: "terminated", text: null, raw: null, dcs: null });
    expect(okValue(parseCusdUrc("+CUSD: 4")).status).toBe("not_supported");
    expect(okValue(parseCusdUrc("+CUSD: 9")).status).toBe("unknown");
  });
  test("answer inside the response, read form, garbage", () => {
    expect(okValue(parseCusdWrite(['+CUSD: 0,"OK text",15'])).text).toBe("OK text");
    expect(okValue(parseCusdRead(["+CUSD: 1"]))).toEqual({ n: 1 });
    expect(parseCusdUrc("+CUSD: ,").ok).toBe(false);
    expect(parseCusdWrite([]).ok).toBe(false);
  });
  test("cbsAlphabet", () => {
    expect(cbsAlphabet(15)).toBe("gsm7");
    expect(cbsAlphabet(72)).toBe("ucs2");
    expect(cbsAlphabet(0x11)).toBe("ucs2");
    expect(cbsAlphabet(0x44)).toBe("8bit");
    expect(cbsAlphabet(0xf4)).toBe("8bit");
  });
});
