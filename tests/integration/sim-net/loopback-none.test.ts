/**
 * --net loopback (no root needed) and --net none, with real curl against the in-process echo server.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/lib/exec.ts";
import { createLabNetwork, type LabNetMode, newLabId, readEchoLog } from "../../../src/sim/net/index.ts";
import { readRecord } from "../../../src/sim/net/registry.ts";

const tmp = mkdtempSync(join(tmpdir(), "sim-net-lo-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function curlIp(echoUrl: string, bind: string): Promise<string> {
  const r = await run(["curl", "-sS", "--max-time", "5", "--interface", bind, `${echoUrl}/ip`]);
  return r.stdout.trim();
}

describe("--net loopback", () => {
  test("each modem gets a 127.64.x.y address that the echo server sees as its public IP", async () => {
    const labId = newLabId("l");
    const lab = createLabNetwork("loopback", { labId, runDir: tmp });
    try {
      await lab.setup(3);
      const info = lab.info();
      expect(info.mode).toBe("loopback");
      expect(info.echoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lab.ifname(2)).toBe("lo");
      const sessions = await Promise.all([0, 1, 2].map((i) => lab.sessionUp(i, { sticky: false })));
      expect(new Set(sessions.map((s) => s.publicIp)).size).toBe(3);
      for (const s of sessions) {
        expect(s.privateIp).toMatch(/^127\.64\.\d+\.\d+$/);
        expect(s.publicIp).toBe(s.privateIp);
        expect(await curlIp(info.echoUrl!, s.privateIp)).toBe(s.publicIp);
      }
      expect(readEchoLog(info.echoLogPath).map((e) => e.src).sort()).toEqual(sessions.map((s) => s.publicIp).sort());

      // Reconnects rotate unless sticky.
      await lab.sessionDown(0);
      const again0 = await lab.sessionUp(0, { sticky: false });
      expect(again0.publicIp).not.toBe(sessions[0]!.publicIp);
      await lab.sessionDown(1);
      const again1 = await lab.sessionUp(1, { sticky: true });
      expect(again1.publicIp).toBe(sessions[1]!.publicIp);
      expect(await curlIp(info.echoUrl!, again0.privateIp)).toBe(again0.publicIp);

      const bytes = await run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", `${info.echoUrl}/bytes/123457`]);
      expect(bytes.stdout).toBe("123457");
      const bad = await run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", `${info.echoUrl}/bytes/abc`]);
      expect(bad.stdout).toBe("404");

      await expect(lab.sessionUp(3, { sticky: false })).rejects.toMatchObject({ code: "LAB_BAD_INDEX" });
      expect(existsSync(info.dir!)).toBe(true);
      expect(readRecord(labId)?.mode).toBe("loopback");
      await lab.destroy();
      expect(existsSync(info.dir!)).toBe(false);
      expect(readRecord(labId)).toBeUndefined();
      const refused = await run(["curl", "-sS", "--max-time", "2", `${info.echoUrl}/ip`], { check: false });
      expect(refused.code).not.toBe(0);
    } finally {
      await lab.destroy();
    }
  });

  test("using a lab before setup is a clear error", async () => {
    const lab = createLabNetwork("loopback", { labId: newLabId("l"), runDir: tmp });
    await expect(lab.sessionUp(0, { sticky: false })).rejects.toMatchObject({ code: "LAB_NOT_READY" });
    await lab.destroy();
  });
});

describe("--net none", () => {
  test("has no data plane: sessionUp throws LAB_NO_NETWORK", async () => {
    const lab = createLabNetwork("none", { labId: newLabId("n"), runDir: tmp });
    await lab.setup(30);
    expect(lab.ifname(0)).toBeUndefined();
    await expect(lab.sessionUp(0, { sticky: false })).rejects.toMatchObject({ code: "LAB_NO_NETWORK" });
    await lab.sessionDown(0);
    await lab.linkDown(0);
    expect(lab.info()).toEqual({ mode: "none", labId: lab.info().labId });
    await lab.destroy();
  });
});

describe("createLabNetwork input checks", () => {
  test("bad lab ids and modes are refused with codes", () => {
    for (const labId of ["", "UPPER", "has-dash", "toolong123", "a b"]) {
      expect(() => createLabNetwork("none", { labId, runDir: tmp })).toThrow(expect.objectContaining({ code: "LAB_BAD_ID" }));
    }
    expect(() => createLabNetwork("wifi" as LabNetMode, { labId: "ok", runDir: tmp })).toThrow(expect.objectContaining({ code: "LAB_BAD_MODE" }));
  });

  test("a bad modem count is refused", async () => {
    const lab = createLabNetwork("loopback", { labId: newLabId("l"), runDir: tmp });
    for (const n of [-1, 1.5, 1001]) await expect(lab.setup(n)).rejects.toMatchObject({ code: "LAB_BAD_COUNT" });
    await lab.destroy();
  });
});
