/** Property-style robustness of the qmicli parsers: random and mutated outputs never throw. Seeded. */
import { describe, expect, test } from "bun:test";
import * as Q from "../../../src/net/qmi/parsers.ts";

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLES = [
  "[/dev/cdc-wdm0] Network started\n\tPacket data handle: '2267587312'\n[/dev/cdc-wdm0] Client ID not released:\n\tService: 'wds'\n\t    CID: '19'\n",
  "[/dev/cdc-wdm1] Current settings retrieved:\n           IP Family: IPv4\n        IPv4 address: 100.99.101.156\n    IPv4 subnet mask: 255.255.255.248\nIPv4 gateway address: 100.99.101.157\n                 MTU: 1500\n             Domains: none\n",
  "error: couldn't start network: QMI protocol error (14): 'CallFailed'\ncall end reason (3): generic-no-service\nverbose call end reason (3,2504): [cm] invalid-sim-state\n",
  "[/dev/cdc-wdm0] Successfully got signal strength\nCurrent:\n\tNetwork 'lte': '-61 dBm'\nSINR (8): '9.0 dB'\nRSRP:\n\tNetwork 'lte': '-90 dBm'\n",
  "[/dev/cdc-wdm0] Successfully got data format\n                   QoS flow header: no\n               Link layer protocol: 'raw-ip'\n",
  "[/dev/cdc-wdm0] Device IDs retrieved:\n\t    ESN: '0'\n\t   IMEI: '864394041083561'\n\t   MEID: 'unknown'\n",
  "Network cancelled... releasing resources\n[/dev/cdc-wdm1] Network stopped\n",
  "[/dev/cdc-wdm0] Connection status: 'connected'\n",
  "wwan0\n",
  "raw-ip\n",
];

const CHARS = "[]':()/\t\n ,.-0123456789abcdefIPv46 DNSMTUerror:\u0000\uffff";

function mutate(rnd: () => number, s: string): string {
  let out = s;
  for (let i = 0; i < 1 + Math.floor(rnd() * 5); i++) {
    const p = Math.floor(rnd() * (out.length + 1));
    const op = Math.floor(rnd() * 3);
    if (op === 0) out = out.slice(0, p);
    else if (op === 1) out = out.slice(0, p) + out.slice(p + 1 + Math.floor(rnd() * 8));
    else out = out.slice(0, p) + CHARS[Math.floor(rnd() * CHARS.length)] + out.slice(p);
  }
  return out;
}

type AnyFn = (...args: unknown[]) => unknown;
const parsers = Object.entries(Q).filter(([n, f]) => typeof f === "function" && n.startsWith("parseQmi")) as [string, AnyFn][];

describe("qmicli parsers fuzz", () => {
  test("every parser is covered", () => {
    expect(parsers.map(([n]) => n).sort()).toEqual([
      "parseQmiCurrentSettings", "parseQmiDataFormat", "parseQmiDeviceIds", "parseQmiError", "parseQmiExpectedDataFormat",
      "parseQmiManufacturer", "parseQmiModel", "parseQmiPacketServiceStatus", "parseQmiRevision", "parseQmiSignalStrength",
      "parseQmiStartNetwork", "parseQmiStopNetwork", "parseQmiWwanIface",
    ]);
  });

  test("3,000 rounds of mutated outputs, random text and junk values", () => {
    const rnd = prng(7);
    const junk: unknown[] = [undefined, null, 5, {}, [], ["a"]];
    let calls = 0;
    for (let round = 0; round < 3000; round++) {
      const stdout = round % 4 === 0 ? Array.from({ length: Math.floor(rnd() * 200) }, () => CHARS[Math.floor(rnd() * CHARS.length)]).join("") : mutate(rnd, SAMPLES[round % SAMPLES.length]);
      const stderr = rnd() < 0.3 ? mutate(rnd, SAMPLES[2]) : "";
      for (const [name, fn] of parsers) {
        for (const args of [[stdout, stderr], [stdout], [junk[round % junk.length], junk[(round + 1) % junk.length]]]) {
          const r = fn(...args) as { ok: unknown; error?: unknown };
          if (typeof r?.ok !== "boolean") throw new Error(`${name}: malformed result`);
          if (!r.ok && (typeof r.error !== "string" || r.error.includes("internal parser error"))) {
            throw new Error(`${name} on ${JSON.stringify(args)}: ${String(r.error)}`);
          }
          calls++;
        }
      }
    }
    expect(calls).toBe(3000 * parsers.length * 3);
  });
});
