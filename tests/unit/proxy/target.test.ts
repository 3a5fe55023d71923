import { describe, expect, test } from "bun:test";
import { formatTarget, parseAbsoluteTarget, parseAuthority } from "../../../src/proxy/engine/target.ts";

describe("parseAuthority", () => {
  test.each([
    ["example.com:443", undefined, { host: "example.com", port: 443 }],
    ["Example.COM.:80", undefined, { host: "example.com", port: 80 }],
    ["[2001:db8::1]:8443", undefined, { host: "2001:db8::1", port: 8443 }],
    ["10.0.0.1", 80, { host: "10.0.0.1", port: 80 }],
  ])("%s", (a, def, want) => expect(parseAuthority(a, def)).toEqual(want));

  test.each(["example.com", "example.com:0", "example.com:65536", "a:b", "2001:db8::1", "[zz]:1", "bad host:1", "-x.com:1", ":80"])(
    "rejects %p",
    (a) => expect(parseAuthority(a)).toBeNull(),
  );
});

describe("parseAbsoluteTarget", () => {
  test("path, query, default port", () => {
    expect(parseAbsoluteTarget("http://echo.lab/ip?x=1")).toEqual({ host: "echo.lab", port: 80, authority: "echo.lab", path: "/ip?x=1" });
  });
  test("empty path becomes /, query-only gets a slash, userinfo is dropped", () => {
    expect(parseAbsoluteTarget("http://u:p@h:8080")).toMatchObject({ host: "h", port: 8080, path: "/", authority: "h:8080" });
    expect(parseAbsoluteTarget("HTTP://h?q")).toMatchObject({ path: "/?q" });
  });
  test("https:// and others are unsupported; origin-form is malformed", () => {
    expect(parseAbsoluteTarget("https://h/")).toBe("unsupported");
    expect(parseAbsoluteTarget("ftp://h/")).toBe("unsupported");
    expect(parseAbsoluteTarget("/index.html")).toBeNull();
    expect(parseAbsoluteTarget("http:///x")).toBeNull();
  });
  test("formatTarget brackets IPv6", () => {
    expect(formatTarget({ host: "::1", port: 80 })).toBe("[::1]:80");
    expect(formatTarget({ host: "a.b", port: 1 })).toBe("a.b:1");
  });
});
