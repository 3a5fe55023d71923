import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDnsRelayArgs } from "../../../src/proxy/dns-relay/cli.ts";
import { defaultDnsRelayConfigPath, parseDnsRelayFile, readDnsRelayFile, writeDnsRelayFile } from "../../../src/proxy/dns-relay/config-file.ts";

const dir = mkdtempSync(join(tmpdir(), "ltp-relaycfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = { id: "866000000000002", port: 20002, outAddress: "10.64.0.2", servers: ["10.64.0.1", "10.64.0.3:5353"] };
const b = { id: "866000000000001", port: 20001, outAddress: "10.64.1.2", servers: ["10.64.1.1"] };

describe("dns-relay.json", () => {
  test("default path follows LTEPROXY_RUNTIME_DIR", () => {
    expect(defaultDnsRelayConfigPath({ LTEPROXY_RUNTIME_DIR: "/run/x" })).toBe("/run/x/dns-relay.json");
  });

  test.each([
    ["no entries", { version: 1 }, /entries/],
    ["port 0", { entries: [{ ...a, port: 0 }] }, /entries\.0\.port/],
    ["no servers", { entries: [{ ...a, servers: [] }] }, /at least one/],
    ["a name as server", { entries: [{ ...a, servers: ["dns.example"] }] }, /servers\[0\]/],
    ["a name as outAddress", { entries: [{ ...a, outAddress: "modem1" }] }, /outAddress/],
    ["v6 server for a v4 modem", { entries: [{ ...a, servers: ["[2001:db8::1]:53"] }] }, /address family/],
    ["duplicate ids", { entries: [a, { ...b, id: a.id }] }, /duplicate id/],
    ["duplicate ports", { entries: [a, { ...b, port: a.port }] }, /used twice/],
  ])("%s is refused with DNS_RELAY_INVALID", (_name, input, msg) => {
    let err: unknown;
    try {
      parseDnsRelayFile(input);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "DNS_RELAY_INVALID" });
    expect((err as Error).message).toMatch(msg);
  });

  test("missing and non-JSON files have their own codes", () => {
    expect(() => readDnsRelayFile(join(dir, "nope.json"))).toThrow(expect.objectContaining({ code: "DNS_RELAY_MISSING" }));
    writeFileSync(join(dir, "bad.json"), "{ nope");
    expect(() => readDnsRelayFile(join(dir, "bad.json"))).toThrow(expect.objectContaining({ code: "DNS_RELAY_JSON" }));
  });

  test("the writer sorts by id, round-trips, and leaves an unchanged file alone", () => {
    const path = join(dir, "sub", "dns-relay.json");
    expect(writeDnsRelayFile(path, { version: "v1", entries: [a, b] })).toBe(true);
    expect(readDnsRelayFile(path).config).toEqual({ version: "v1", entries: [b, a] });
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const before = readFileSync(path, "utf8");
    expect(writeDnsRelayFile(path, { version: "v1", entries: [b, a] })).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  test("the writer refuses what the relay would refuse, and keeps the old file", () => {
    const path = join(dir, "keep.json");
    writeDnsRelayFile(path, { version: 1, entries: [a] });
    expect(() => writeDnsRelayFile(path, { version: 2, entries: [{ ...a, servers: [] }] })).toThrow();
    expect(readDnsRelayFile(path).config.version).toBe(1);
  });
});

describe("lteproxy dns-relay arguments", () => {
  test("defaults, --config and --timeout-ms", () => {
    expect(parseDnsRelayArgs([])).toMatchObject({ timeoutMs: 1500, help: false });
    expect(parseDnsRelayArgs(["--config", "/x.json", "--timeout-ms=700"])).toEqual({ config: "/x.json", timeoutMs: 700, help: false });
  });

  test.each([[["--config"]], [["--timeout-ms", "0"]], [["--timeout-ms", "abc"]], [["--bogus"]]])("%p is an error", (argv) => {
    expect(typeof parseDnsRelayArgs(argv)).toBe("string");
  });
});
