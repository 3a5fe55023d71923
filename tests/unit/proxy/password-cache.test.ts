import { describe, expect, test } from "bun:test";
import { createPasswordVerifier } from "../../../src/proxy/engine/password-cache.ts";

describe("createPasswordVerifier", () => {
  test("verifies argon2id and bcrypt hashes once per (hash, password)", async () => {
    const v = createPasswordVerifier();
    const argon = await Bun.password.hash("s3cret", { algorithm: "argon2id", memoryCost: 4096, timeCost: 2 });
    const bcrypt = await Bun.password.hash("hunter2", { algorithm: "bcrypt", cost: 4 });
    expect(await v.verify(argon, "s3cret")).toBe(true);
    expect(await v.verify(argon, "wrong")).toBe(false);
    expect(await v.verify(bcrypt, "hunter2")).toBe(true);
    expect(v.computed).toBe(3);
    for (let i = 0; i < 50; i++) {
      expect(await v.verify(argon, "s3cret")).toBe(true);
      expect(await v.verify(argon, "wrong")).toBe(false);
    }
    expect(v.computed).toBe(3);
  });

  test("concurrent checks of the same pair share one computation", async () => {
    let calls = 0;
    const v = createPasswordVerifier({
      verify: async (p) => {
        calls++;
        await Bun.sleep(20);
        return p === "ok";
      },
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => v.verify("$argon2id$x", "ok")));
    expect(results.every(Boolean)).toBe(true);
    expect(calls).toBe(1);
  });

  test("a malformed hash verifies nothing", async () => {
    const v = createPasswordVerifier();
    expect(await v.verify("$argon2id$garbage", "x")).toBe(false);
  });

  test("uncached checks run two at a time; a full queue sheds without caching the refusal", async () => {
    let running = 0;
    let peak = 0;
    const v = createPasswordVerifier({
      maxQueue: 5,
      verify: async () => {
        peak = Math.max(peak, ++running);
        await Bun.sleep(10);
        running--;
        return true;
      },
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => v.verify("h", `p${i}`)));
    expect(peak).toBe(2);
    expect(results.filter(Boolean).length).toBe(7); // 2 running + 5 queued; 3 shed
    expect(v.shed).toBe(3);
    expect(await v.verify("h", "p9")).toBe(true); // a shed check was not remembered as wrong
  });

  test("the cache is bounded", async () => {
    const v = createPasswordVerifier({ maxEntries: 10, verify: async () => true });
    for (let i = 0; i < 30; i++) await v.verify("h", `p${i}`);
    expect(v.computed).toBe(30);
    await v.verify("h", "p0"); // evicted long ago
    expect(v.computed).toBe(31);
    await v.verify("h", "p29"); // still cached
    expect(v.computed).toBe(31);
  });
});
