import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ConnLogEntry } from "../../../src/proxy/engine/conn-log-spool.ts";
import { curl, freePort, hashPassword, randomLoopback, startLab, startOrigin, waitFor, type Lab, type Origin } from "./helpers.ts";

let origin: Origin;
let lab: Lab;
const out = randomLoopback();
const port = freePort();

beforeAll(async () => {
  origin = startOrigin();
  lab = await startLab({
    version: "v42",
    spool: { rollSeconds: 3600, rollEntries: 5 },
    ports: [{ id: "866000000000021", port, listen: "127.0.0.1", outAddress: out, state: "online", users: [{ name: "alice", passwordHash: await hashPassword("pw") }] }],
  });
});
afterAll(async () => {
  await lab.stop();
  origin.stop();
});

const sock = () => join(lab.dir, "proxy-stats.sock");
const unixGet = async (path: string) => (await fetch(`http://localhost${path}`, { unix: sock() } as RequestInit)).json();

function spoolEntries(): ConnLogEntry[] {
  const dir = join(lab.dir, "connlog");
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n").filter(Boolean))
    .map((l) => JSON.parse(l) as ConnLogEntry);
}

describe("stats socket and connection log", () => {
  test("/healthz reports the config version and uptime", async () => {
    const h = (await unixGet("/healthz")) as Record<string, unknown>;
    expect(h).toMatchObject({ ok: true, version: "v42", ports: 1, listening: 1, failed: [], configError: null });
    expect(h.uptimeMs).toBeGreaterThanOrEqual(0);
  });

  test("/stats counts bytes per port and user, auth failures and refusals", async () => {
    await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, origin.url("/big?bytes=100000")]);
    await curl(["-x", `http://alice:bad@127.0.0.1:${port}`, origin.url("/small")]);
    await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, "-p", origin.url("/small")]);
    expect(await waitFor(() => lab.engine.stats().active === 0)).toBe(true);
    const s = (await unixGet("/stats")) as ReturnType<typeof lab.engine.stats>;
    expect(s.version).toBe("v42");
    const p = s.ports[0];
    expect(p).toMatchObject({ id: "866000000000021", port, state: "online", listening: true, active: 0, accepted: 3, connections: 2, authFailures: 1 });
    expect(p.refusals).toEqual({ auth_failed: 1 });
    expect(p.users.alice.connections).toBe(2);
    expect(p.users.alice.active).toBe(0);
    expect(p.bytesDown).toBeGreaterThan(100_000);
    expect(p.users.alice.bytesDown).toBe(p.bytesDown);
    expect(s.totals.bytesDown).toBe(p.bytesDown);
  });

  test("unknown paths 404", async () => {
    const r = await fetch("http://localhost/nope", { unix: sock() } as RequestInit);
    expect(r.status).toBe(404);
  });

  test("one spool entry per request/tunnel with client, user, target, bytes, duration, result", async () => {
    const before = spoolEntries().length;
    await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, origin.url("/small")]);
    expect(await waitFor(() => spoolEntries().length > before, 3000)).toBe(true);
    const all = spoolEntries();
    const last = all.filter((e) => e.proto === "http" && e.result === "ok").at(-1)!; // a tunnel's entry may land later
    expect(last).toMatchObject({ port, portId: "866000000000021", user: "alice", target: `127.0.0.1:${origin.port}`, proto: "http", result: "ok", status: 200 });
    expect(last.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(last.down).toBeGreaterThan(18);
    expect(last.up).toBeGreaterThan(30);
    expect(last.ms).toBeGreaterThanOrEqual(0);
    const refused = all.find((e) => e.result === "auth_failed")!;
    expect(refused).toMatchObject({ status: 407, up: 0, down: 0 });
    const tunnel = all.find((e) => e.proto === "connect")!;
    expect(tunnel).toMatchObject({ result: "ok", status: 200, user: "alice" });
    expect(tunnel.down).toBeGreaterThan(18);
  });

  test("the spool rolls after rollEntries entries into files the control plane can ingest", async () => {
    for (let i = 0; i < 6; i++) await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, origin.url("/small")]);
    expect(await waitFor(() => readdirSync(join(lab.dir, "connlog")).some((f) => f !== "current.jsonl"), 3000)).toBe(true);
    const rolled = readdirSync(join(lab.dir, "connlog")).filter((f) => f !== "current.jsonl");
    expect(rolled.every((f) => /^\d{4}-\d\d-\d\dT[\d-]+Z-\d{6}\.jsonl$/.test(f))).toBe(true);
    const first = readFileSync(join(lab.dir, "connlog", rolled.sort()[0]), "utf8").trim().split("\n");
    expect(first.length).toBe(5);
  });
});
