import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { curl, freePort, hashPassword, randomLoopback, startLab, startOrigin, waitFor, type Lab, type Origin } from "./helpers.ts";

let origin: Origin;
let lab: Lab;
let alice: { name: string; passwordHash: string };
let bob: { name: string; passwordHash: string };
const out = randomLoopback();
const portA = freePort();
const portB = freePort();

/** ~3 MB in 48 chunks 40 ms apart: about two seconds of download. */
const SLOW = "/big?bytes=3145728&chunk=65536&delay=40";

type Config = ProxyConfigInput & { ports: NonNullable<ProxyConfigInput["ports"]> };

function config(version: number, portAUsers: typeof alice[], extra: Partial<ProxyConfigInput> = {}, withB = true): Config {
  const ports: Config["ports"] = [{ id: "A", port: portA, listen: "127.0.0.1", outAddress: out, state: "online", users: portAUsers }];
  if (withB) ports.push({ id: "B", port: portB, listen: "127.0.0.1", outAddress: out, state: "online", users: [alice] });
  return { version, allowLocalTargets: true, ports, ...extra };
}

beforeAll(async () => {
  origin = startOrigin();
  alice = { name: "alice", passwordHash: await hashPassword("a-pass") };
  bob = { name: "bob", passwordHash: await hashPassword("b-pass") };
  lab = await startLab(config(1, [alice]));
});
afterAll(async () => {
  await lab.stop();
  origin.stop();
});

const get = (port: number, creds: string, path: string, extra: string[] = []) =>
  curl(["-x", `http://${creds}@127.0.0.1:${port}`, "-o", "/dev/null", "-w", "%{http_code} %{size_download}", ...extra, origin.url(path)]);

describe("reload", () => {
  test("adding a user during long downloads (HTTP and SOCKS5) cuts neither; the new user works at once", async () => {
    const http = get(portA, "alice:a-pass", SLOW);
    const socks = curl(["--socks5-hostname", `alice:a-pass@127.0.0.1:${portA}`, "-o", "/dev/null", "-w", "%{http_code} %{size_download}", origin.url(SLOW)]);
    await Bun.sleep(400);
    expect(lab.engine.stats().active).toBe(2);
    const r = lab.engine.reload(config(2, [alice, bob]));
    expect(r).toMatchObject({ ok: true, version: 2, changed: [portA], added: [], removed: [] });
    expect((await get(portA, "bob:b-pass", "/small")).stdout).toBe("200 18");
    const [h, s] = await Promise.all([http, socks]);
    expect(h).toMatchObject({ code: 0, stdout: "200 3145728" });
    expect(s).toMatchObject({ code: 0, stdout: "200 3145728" });
  });

  test("changed auth applies to new connections only", async () => {
    const auth = "Proxy-Authorization: Basic " + Buffer.from("bob:b-pass").toString("base64") + "\r\n";
    const req = `GET ${origin.url("/small")} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`;
    const s = net.connect({ host: "127.0.0.1", port: portA });
    let got = "";
    s.on("data", (d) => (got += d.toString()));
    await new Promise((r) => s.on("connect", r));
    s.write(req);
    expect(await waitFor(() => got.includes("bytes !!"))).toBe(true);
    expect(lab.engine.reload(config(3, [alice])).ok).toBe(true); // bob removed
    got = "";
    s.write(req);
    expect(await waitFor(() => got.includes("bytes !!"))).toBe(true);
    expect(got).toStartWith("HTTP/1.1 200");
    s.destroy();
    expect((await get(portA, "bob:b-pass", "/small")).stdout).toStartWith("407");
  });

  test("removing a port stops its listener; its live download still finishes", async () => {
    const live = get(portB, "alice:a-pass", SLOW);
    await Bun.sleep(300);
    const r = lab.engine.reload(config(4, [alice], {}, false));
    expect(r).toMatchObject({ ok: true, removed: [portB] });
    const refused = await get(portB, "alice:a-pass", "/small");
    expect(refused.code).toBe(7); // couldn't connect
    const draining = lab.engine.stats().ports.find((p) => p.port === portB);
    expect(draining).toMatchObject({ draining: true, listening: false, active: 1 });
    expect(await live).toMatchObject({ code: 0, stdout: "200 3145728" });
    expect(await waitFor(() => !lab.engine.stats().ports.some((p) => p.port === portB))).toBe(true);
  });

  test("re-adding the port listens again", async () => {
    expect(lab.engine.reload(config(5, [alice])).ok).toBe(true);
    expect((await get(portB, "alice:a-pass", "/small")).stdout).toBe("200 18");
  });

  test("a bad config is refused and the old one stays in force", async () => {
    const r = lab.engine.reload({ version: 6, ports: [{ id: "A", port: "not a number" }] });
    expect(r.ok).toBe(false);
    expect(lab.engine.config.version).toBe(5);
    expect(lab.engine.stats().config.lastError).toContain("ports.0.port");
    expect((await get(portA, "alice:a-pass", "/small")).stdout).toBe("200 18");
  });

  test("a state change refuses new requests; a download in flight continues", async () => {
    const live = get(portA, "alice:a-pass", SLOW);
    await Bun.sleep(300);
    const cfg = config(7, [alice]);
    cfg.ports[0] = { ...cfg.ports[0], state: "rotating" };
    expect(lab.engine.reload(cfg).ok).toBe(true);
    const refused = await curl(["-x", `http://alice:a-pass@127.0.0.1:${portA}`, origin.url("/small")]);
    expect(refused.stdout).toBe("modem A is rotating\n");
    expect(await live).toMatchObject({ code: 0, stdout: "200 3145728" });
    expect(lab.engine.reload(config(8, [alice])).ok).toBe(true);
  });

  test("the global whitelist applies to every port", async () => {
    expect((await get(portA, "", "/small")).stdout).toStartWith("407");
    expect(lab.engine.reload(config(9, [alice], { whitelist: ["127.0.0.0/8"] })).ok).toBe(true);
    const r = await curl(["-x", `http://127.0.0.1:${portA}`, origin.url("/ip")]);
    expect(r.stdout).toBe(out);
    expect(lab.engine.reload(config(10, [alice])).ok).toBe(true);
  });

  test("a port another process holds is reported and retried, the rest serve", async () => {
    const taken = freePort();
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: taken, socket: { data() {} } });
    const cfg = config(11, [alice]);
    cfg.ports.push({ id: "C", port: taken, listen: "127.0.0.1", outAddress: out, state: "online", users: [alice] });
    const r = lab.engine.reload(cfg);
    expect(r.ok && r.failed.map((f) => f.port)).toEqual([taken]);
    expect(lab.engine.stats().ports.find((p) => p.port === taken)).toMatchObject({ listening: false });
    expect(lab.engine.stats().ports.find((p) => p.port === taken)?.listenError).toContain("EADDRINUSE");
    squatter.stop(true);
    expect(lab.engine.reload({ ...cfg, version: 12 }).ok).toBe(true); // a reload retries at once
    expect(lab.engine.stats().ports.find((p) => p.port === taken)).toMatchObject({ listening: true, listenError: null });
    expect((await get(taken, "alice:a-pass", "/small")).stdout).toBe("200 18");
  });
});
