import { describe, expect, test } from "bun:test";
import { encodeReply, parseGreeting, parseRequest, parseUserPass } from "../../../src/proxy/engine/socks5-parse.ts";

const u8 = (...a: number[]) => new Uint8Array(a);

describe("parseGreeting", () => {
  test("methods", () => {
    expect(parseGreeting(u8(5, 2, 0, 2))).toEqual({ kind: "ok", value: { methods: [0, 2] }, length: 4 });
  });
  test("incomplete", () => {
    expect(parseGreeting(u8(5)).kind).toBe("incomplete");
    expect(parseGreeting(u8(5, 3, 0)).kind).toBe("incomplete");
  });
  test("errors", () => {
    expect(parseGreeting(u8(4, 1, 0)).kind).toBe("error");
    expect(parseGreeting(u8(5, 0)).kind).toBe("error");
  });
});

describe("parseUserPass (RFC 1929)", () => {
  test("user and password", () => {
    const buf = u8(1, 5, ...Buffer.from("alice"), 6, ...Buffer.from("s3cret"), 0xaa);
    expect(parseUserPass(buf)).toEqual({ kind: "ok", value: { user: "alice", pass: "s3cret" }, length: 14 });
  });
  test("empty password", () => {
    expect(parseUserPass(u8(1, 1, 0x61, 0))).toMatchObject({ kind: "ok", value: { user: "a", pass: "" } });
  });
  test("incomplete and bad version", () => {
    expect(parseUserPass(u8(1, 5, 0x61)).kind).toBe("incomplete");
    expect(parseUserPass(u8(1, 1, 0x61, 3, 0x62)).kind).toBe("incomplete");
    expect(parseUserPass(u8(5, 1, 0x61, 0)).kind).toBe("error");
  });
});

describe("parseRequest", () => {
  test("IPv4", () => {
    expect(parseRequest(u8(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90))).toEqual({
      kind: "ok",
      value: { cmd: 1, target: { host: "127.0.0.1", port: 8080 } },
      length: 10,
    });
  });
  test("domain", () => {
    const name = Buffer.from("Echo.Lab");
    expect(parseRequest(u8(5, 1, 0, 3, name.length, ...name, 0, 80))).toMatchObject({
      kind: "ok",
      value: { target: { host: "echo.lab", port: 80 } },
    });
  });
  test("IPv6", () => {
    const addr = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
    expect(parseRequest(u8(5, 1, 0, 4, ...addr, 1, 0xbb))).toMatchObject({
      kind: "ok",
      value: { target: { host: "2001:db8:0:0:0:0:0:1", port: 443 } },
      length: 22,
    });
  });
  test("other commands parse (the session answers 0x07)", () => {
    expect(parseRequest(u8(5, 3, 0, 1, 1, 2, 3, 4, 0, 53))).toMatchObject({ kind: "ok", value: { cmd: 3 } });
  });
  test.each([
    ["bad atyp", u8(5, 1, 0, 9, 1, 2, 3, 4, 0, 1), 0x08],
    ["empty name", u8(5, 1, 0, 3, 0, 0, 80), 0x08],
    ["bad name", u8(5, 1, 0, 3, 3, 0x20, 0x00, 0x2f, 0, 80), 0x04],
    ["port 0", u8(5, 1, 0, 1, 1, 2, 3, 4, 0, 0), 0x04],
    ["version", u8(4, 1, 0, 1, 1, 2, 3, 4, 0, 80), 0x01],
  ])("%s → reply %d", (_n, buf, reply) => {
    expect(parseRequest(buf)).toMatchObject({ kind: "error", reply });
  });
  test("incomplete", () => {
    expect(parseRequest(u8(5, 1, 0, 3, 10, 0x61)).kind).toBe("incomplete");
    expect(parseRequest(u8(5, 1, 0, 1, 1, 2)).kind).toBe("incomplete");
  });
});

describe("encodeReply", () => {
  test("IPv4 bound address", () => {
    expect([...encodeReply(0, { address: "10.64.0.2", port: 40000 })]).toEqual([5, 0, 0, 1, 10, 64, 0, 2, 0x9c, 0x40]);
  });
  test("failure without an address", () => {
    expect([...encodeReply(3)]).toEqual([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]);
  });
  test("IPv6 and mapped IPv4", () => {
    const r = encodeReply(0, { address: "2001:db8::1", port: 1 });
    expect(r.length).toBe(22);
    expect(r[3]).toBe(4);
    expect(r.readUInt16BE(4)).toBe(0x2001);
    expect(r.readUInt16BE(18)).toBe(1);
    expect([...encodeReply(0, { address: "::ffff:1.2.3.4", port: 2 })]).toEqual([5, 0, 0, 1, 1, 2, 3, 4, 0, 2]);
  });
});
