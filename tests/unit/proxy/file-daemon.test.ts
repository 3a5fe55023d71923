import { describe, expect, test } from "bun:test";
import { parseProxyArgs } from "../../../src/proxy/engine/cli.ts";
import { parseFileDaemonArgs } from "../../../src/proxy/file-daemon.ts";

const spec = { config: "/run/x.json", numbers: { "wait-ms": { default: 10, min: 1, max: 100, error: "--wait-ms needs 1-100" } } };

describe("parseFileDaemonArgs", () => {
  test("defaults", () => {
    expect(parseFileDaemonArgs([], spec)).toEqual({ config: "/run/x.json", help: false, numbers: { "wait-ms": 10 } });
  });
  test.each([
    [["--config", "/a.json", "--wait-ms", "5"], { config: "/a.json", help: false, numbers: { "wait-ms": 5 } }],
    [["--config=/b.json", "--wait-ms=100", "-h"], { config: "/b.json", help: true, numbers: { "wait-ms": 100 } }],
  ])("%p", (argv, want) => expect(parseFileDaemonArgs(argv, spec)).toEqual(want));
  test.each([
    [["--config"], "--config needs a file"],
    [["--config="], "--config needs a file"],
    [["--wait-ms", "0"], "--wait-ms needs 1-100"],
    [["--wait-ms=1.5"], "--wait-ms needs 1-100"],
    [["--wait-ms"], "--wait-ms needs 1-100"],
    [["--drain-ms", "5"], "unknown argument: --drain-ms"],
    [["stray"], "unknown argument: stray"],
  ])("%p is refused", (argv, error) => expect(parseFileDaemonArgs(argv, spec)).toBe(error));
});

test("lteproxy proxy's arguments", () => {
  expect(parseProxyArgs(["--config=/p.json", "--drain-ms", "0"])).toEqual({ config: "/p.json", drainMs: 0, help: false });
  expect(parseProxyArgs(["--drain-ms", "-1"])).toBe("--drain-ms needs a whole number of milliseconds");
});
