import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config.ts";

describe("config", () => {
  test("defaults", () => {
    const c = loadConfig({ env: {} });
    expect(c.http.port).toBe(8080);
    expect(c.proxy.port_min).toBe(3128);
    expect(c.proxy.port_max).toBe(4127);
    expect(c.proxy.table_min).toBe(100);
    expect(c.health.interval_s).toBe(30);
    expect(c.paths.device_dir).toBe("/dev/modems");
    expect(c.node.id.length).toBeGreaterThan(0);
  });

  test.each([
    [{ LTEPROXY_HTTP_PORT: "abc" }, /LTEPROXY_HTTP_PORT \(http\.port\) = "abc": expected an integer from 1 to 65535/],
    [{ LTEPROXY_HTTP_PORT: "70000" }, /http\.port.*70000/],
    [{ LTEPROXY_PROXY_ENGINE: "squid" }, /LTEPROXY_PROXY_ENGINE \(proxy\.engine\) = "squid": expected one of builtin, 3proxy/],
    [{ LTEPROXY_HEALTH_INTERVAL_S: "10" }, /health\.interval_s.*expected an integer from 30 to 60/],
    [{ LTEPROXY_PROXY_PORT_MIN: "5000", LTEPROXY_PROXY_PORT_MAX: "4000" }, /port_min \(5000\) must not exceed/],
    [{ LTEPROXY_ALERT_WEBHOOK_URL: "hooks.example/alert" }, /health\.alert_webhook_url.*expected an http:\/\/ or https:\/\/ URL, or empty/],
  ])("rejects %p with a message naming key, value and what is allowed", (env, message) => {
    expect(() => loadConfig({ env })).toThrow(message);
  });

  test("alert webhook: off by default, set by alias or section key", () => {
    expect(loadConfig({ env: {} }).health.alert_webhook_url).toBe("");
    const c = loadConfig({ env: { LTEPROXY_ALERT_WEBHOOK_URL: "http://10.0.0.5:9000/hook", LTEPROXY_HEALTH_ALERT_WEBHOOK_TOKEN: "t0k" } });
    expect([c.health.alert_webhook_url, c.health.alert_webhook_token]).toEqual(["http://10.0.0.5:9000/hook", "t0k"]);
  });

  test("env overrides the file, aliases work, lists split on commas", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "lteproxy.toml");
    writeFileSync(file, '[http]\nport = 9000\nhost = "127.0.0.1"\n[proxy]\nengine = "3proxy"\n');
    const c = loadConfig({
      file,
      env: { LTEPROXY_HTTP_PORT: "9100", DATABASE_URL: "postgres://x@y/z", LTEPROXY_PROXY_WHITELIST: "10.0.0.0/8, 192.168.1.5/32" },
    });
    expect(c.http.port).toBe(9100);
    expect(c.http.host).toBe("127.0.0.1");
    expect(c.proxy.engine).toBe("3proxy");
    expect(c.database.url).toBe("postgres://x@y/z");
    expect(c.proxy.whitelist).toEqual(["10.0.0.0/8", "192.168.1.5/32"]);
  });

  test("a bad value in the file names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "lteproxy.toml");
    writeFileSync(file, "[http]\nport = \"eighty\"\n");
    expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(`${file.replace(/[.]/g, "\\.")} \\(http\\.port\\) = "eighty"`));
  });

  test("invalid TOML and a missing explicit file are clear errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "bad.toml");
    writeFileSync(file, "[http\nport=");
    expect(() => loadConfig({ file, env: {} })).toThrow(/not valid TOML/);
    expect(() => loadConfig({ file: join(dir, "missing.toml"), env: {} })).toThrow(/cannot read config file/);
  });
});
