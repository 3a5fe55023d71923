import { describe, expect, test } from "bun:test";
import { nextRotationAt, parseRotationSchedule } from "../../../src/health/rotation-schedule.ts";

describe("parseRotationSchedule", () => {
  test.each([
    ["300", 300_000], ["300s", 300_000], ["5m", 300_000], ["5 min", 300_000], ["every 2h", 7_200_000], ["60", 60_000], [" 90s ", 90_000],
  ])("interval %j → %d ms", (text, ms) => {
    const s = parseRotationSchedule(text);
    expect(s.kind).toBe("interval");
    expect(s.kind === "interval" && s.ms).toBe(ms);
  });

  test("cron expressions, five or six fields", () => {
    const s = parseRotationSchedule("*/5 * * * *");
    expect(s.kind).toBe("cron");
    expect(nextRotationAt(s, new Date("2025-01-01T00:01:00Z"))?.toISOString()).toBe("2025-01-01T00:05:00.000Z");
    expect(parseRotationSchedule("0 0 3 * * *").kind).toBe("cron");
  });

  test.each([
    ["59", "at least 60 s"], ["30s", "at least 60 s"], ["0", "at least 60 s"],
    ["*/10 * * * * *", "more often than every 60 s"], ["0,30 * * * * *", "more often than every 60 s"],
    ["garbage", "not an interval"], ["", "not an interval"], ["5 parsecs", "not an interval"], ["99999999999", "not an interval"],
  ])("%j is refused (%s)", (text, why) => {
    expect(() => parseRotationSchedule(text)).toThrow(why);
    try {
      parseRotationSchedule(text);
    } catch (e) {
      expect((e as { code?: string }).code).toBe("ROTATION_SCHEDULE_INVALID");
    }
  });

  test("an interval counts from the given time", () => {
    const s = parseRotationSchedule("10m");
    expect(nextRotationAt(s, new Date("2025-01-01T00:00:00Z"))?.toISOString()).toBe("2025-01-01T00:10:00.000Z");
  });
});
