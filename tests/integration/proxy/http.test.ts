import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { curl, freePort, hashPassword, randomLoopback, rawExchange, startLab, startOrigin, waitFor, type Lab, type Origin } from "./helpers.ts";

let origin: Origin;
let lab: Lab;
let port: number;
let whitelistedPort: number;
let downPort: number;
const out = randomLoopback();

beforeAll(async () => {
  origin = startOrigin();
  port = freePort();
  whitelistedPort = freePort();
  downPort = freePort();
  const passwordHash = await hashPassword("s3cret");
  lab = await startLab({
    version: 1,
    ports: [
      { id: "866000000000001", port, listen: "127.0.0.1", outAddress: out, state: "online", users: [{ name: "alice", passwordHash }] },
      { id: "866000000000002", port: whitelistedPort, listen: "127.0.0.1", outAddress: out, state: "online", whitelist: ["127.0.0.0/8"] },
      {
        id: "866000000000003",
        port: downPort,
        listen: "127.0.0.1",
        outAddress: out,
        state: "rotating",
        reason: "IP rotation in progress",
        users: [{ name: "alice", passwordHash }],
      },
    ],
  });
});

afterAll(async () => {
  await lab.stop();
  origin.stop();
});

const proxy = (p: number, creds = "alice:s3cret") => ["-x", `http://${creds ? creds + "@" : ""}127.0.0.1:${p}`];

describe("HTTP proxy", () => {
  test("absolute-form GET with credentials leaves from outAddress", async () => {
    const r = await curl([...proxy(port), origin.url("/ip")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out);
  });

  test("no credentials → 407 with a Basic challenge", async () => {
    const r = await curl([...proxy(port, ""), "-i", origin.url("/ip")]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 407 /);
    expect(r.stdout).toContain('Proxy-Authenticate: Basic realm="lteproxy"');
  });

  test("wrong password and unknown user → 407", async () => {
    for (const creds of ["alice:nope", "mallory:s3cret"]) {
      const r = await curl([...proxy(port, creds), "-o", "/dev/null", "-w", "%{http_code}", origin.url("/ip")]);
      expect(r.stdout).toBe("407");
    }
  });

  test("a whitelisted client needs no credentials", async () => {
    const r = await curl([...proxy(whitelistedPort, ""), origin.url("/ip")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out);
  });

  test("modem not online → 503 naming the modem state, without touching the origin", async () => {
    const before = origin.peers.length;
    const r = await curl([...proxy(downPort), "-i", origin.url("/ip")]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 503 /);
    expect(r.stdout).toContain("modem 866000000000003 is rotating: IP rotation in progress");
    expect(origin.peers.length).toBe(before);
  });

  test("keep-alive: several requests on one client connection", async () => {
    const r = await curl([...proxy(port), "-w", "%{num_connects}\n", origin.url("/small"), origin.url("/ip"), origin.url("/small")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`eighteen bytes !!\n1\n${out}0\neighteen bytes !!\n0\n`);
  });

  test("POST body is streamed to the origin and back", async () => {
    const file = `${lab.dir}/body.bin`;
    await Bun.write(file, "x".repeat(300_000));
    const r = await curl([...proxy(port), "--data-binary", `@${file}`, origin.url("/echo")]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(300_000);
  });

  test("chunked request body", async () => {
    const r = await curl([...proxy(port), "-H", "Transfer-Encoding: chunked", "--data-binary", "hello chunked", origin.url("/echo")]);
    expect(r.stdout).toBe("hello chunked");
  });

  test("a large download arrives intact", async () => {
    const r = await curl([...proxy(port), "-o", "/dev/null", "-w", "%{size_download}", origin.url("/big?bytes=20000000")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("20000000");
  });

  test("CONNECT tunnel", async () => {
    const r = await curl([...proxy(port), "-p", origin.url("/ip")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out);
  });

  test("CONNECT without credentials → 407", async () => {
    const r = await curl([...proxy(port, ""), "-p", origin.url("/ip")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("407");
  });

  test("https:// in absolute form → 501; origin-form → 400", async () => {
    const auth = "Proxy-Authorization: Basic " + Buffer.from("alice:s3cret").toString("base64") + "\r\n";
    const https = await rawExchange(port, `GET https://127.0.0.1:1/ HTTP/1.1\r\n${auth}\r\n`);
    expect(https.toString()).toMatch(/^HTTP\/1\.1 501 /);
    const originForm = await rawExchange(port, `GET / HTTP/1.1\r\nHost: a\r\n${auth}\r\n`);
    expect(originForm.toString()).toMatch(/^HTTP\/1\.1 400 /);
  });

  test("connection refused by the target → 502", async () => {
    const dead = freePort();
    const r = await curl([...proxy(port), "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${dead}/`]);
    expect(r.stdout).toBe("502");
  });

  test("pipelined requests are answered in order", async () => {
    const auth = "Proxy-Authorization: Basic " + Buffer.from("alice:s3cret").toString("base64") + "\r\n";
    const req = (p: string) => `GET ${origin.url(p)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`;
    const resp = await new Promise<string>((resolve) => {
      let got = "";
      const s = net.connect({ host: "127.0.0.1", port }, () => s.write(req("/small") + req("/ip") + req("/small")));
      s.on("data", (d) => {
        got += d.toString();
        if (got.split("HTTP/1.1 200").length === 4 && got.endsWith("!!\n")) s.end();
      });
      s.on("close", () => resolve(got));
      setTimeout(() => s.destroy(), 5000);
    });
    const bodies = resp.split(/HTTP\/1\.1 200 OK\r\n/).slice(1).map((r) => r.split("\r\n\r\n")[1]);
    expect(bodies).toEqual(["eighteen bytes !!\n", out, "eighteen bytes !!\n"]);
  });

  test("counters per port and per user", async () => {
    const s = lab.engine.stats().ports.find((p) => p.port === port)!;
    expect(s.users.alice.connections).toBeGreaterThan(5);
    expect(s.bytesDown).toBeGreaterThan(20_000_000);
    expect(s.bytesUp).toBeGreaterThan(300_000);
    expect(s.refusals.auth_required).toBeGreaterThanOrEqual(1);
    expect(s.refusals.auth_failed).toBeGreaterThanOrEqual(2);
    expect(s.authFailures).toBe((s.refusals.auth_required ?? 0) + (s.refusals.auth_failed ?? 0));
    const down = lab.engine.stats().ports.find((p) => p.port === downPort)!;
    expect(down.refusals.modem_not_online).toBe(1);
    expect(await waitFor(() => lab.engine.stats().active === 0)).toBe(true);
  });
});
