import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { LISTEN_BACKLOG } from "../../../src/proxy/engine/port-runtime.ts";
import { freePort, hashPassword, randomLoopback, startLab, type Lab } from "./helpers.ts";

let lab: Lab;
const port = freePort();

beforeAll(async () => {
  lab = await startLab({
    version: "backlog",
    ports: [{ id: "866000000000031", port, listen: "127.0.0.1", outAddress: randomLoopback(), state: "online", users: [{ name: "alice", passwordHash: await hashPassword("pw") }] }],
  });
});
afterAll(() => lab?.stop());

test("a port's accept queue is raised past Bun's 512, up to what the kernel allows", () => {
  // For a listening socket, ss shows the backlog in the Send-Q column.
  const out = Bun.spawnSync(["ss", "-ltnH", `sport = :${port}`]).stdout.toString().trim();
  const cols = out.split(/\s+/);
  expect(cols[0]).toBe("LISTEN");
  const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  expect(Number(cols[2])).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
  expect(Number(cols[2])).toBeGreaterThan(512);
});
