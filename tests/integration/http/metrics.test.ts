/**
 * /metrics: access control, content from the DB, `promtool check metrics`, and a real Prometheus server scraping
 * the app on loopback (temp config, 1 s interval) that reports the target up. Skipped with a message when the
 * Debian prometheus package is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeHarness, request, seedModems, type Harness } from "./harness.ts";
import { appendEvent } from "../../../src/db/queries/events.ts";

const TOKEN = "metrics-token-0123456789";
let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ config: { metrics: { token: TOKEN, allow: ["127.0.0.1/32"] } } });
  const ids = await seedModems(h.db, 3);
  await h.db.sql`update modems set state = 'degraded', sinr_raw = 15 where id = ${ids[1]}`;
  await h.db.sql`insert into rotations (job_id, node_id, modem_id, method, trigger, status, result, old_ip, new_ip)
                 values (gen_random_uuid(), 'n1', ${ids[0]}, 'airplane', 'api', 'done', 'OK', '203.0.113.1', '198.51.100.1'),
                        (gen_random_uuid(), 'n1', ${ids[0]}, 'airplane', 'api', 'done', 'COLLISION', '198.51.100.1', null)`;
  await h.db.sql`insert into alerts (node_id, kind, severity, scope, dedup_key, message) values ('n1', 'x', 'critical', 'system', 'k', 'm')`;
  const seq = await appendEvent(h.db.sql, { nodeId: "n1", modemId: ids[0], kind: "modem.updated" });
  await h.events.waitFor(seq);
});
afterAll(async () => {
  await h.close();
});

const scrape = (headers: Record<string, string>, ip = "192.0.2.10") => request(h.app, "GET", "/metrics", { ip, headers });

describe("metrics endpoint", () => {
  test("bearer token or allow-listed address; anything else 401", async () => {
    expect((await scrape({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await scrape({}, "127.0.0.1")).status).toBe(200);
    const none = await scrape({});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await scrape({ authorization: "Bearer wrong" }, "127.0.0.1")).status).toBe(401);
  });

  test("per-modem gauges from the modems table, rotations by result, open alerts, event lag, process", async () => {
    const r = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await r.text();
    expect(text).toMatch(/^lteproxy_modem_up\{node="n1",modem="1",slot="1-1\.1",imei="860000000000001"\} 1$/m);
    expect(text).toMatch(/^lteproxy_modem_up\{node="n1",modem="2",[^}]*\} 0$/m);
    expect(text).toMatch(/^lteproxy_modem_state\{node="n1",modem="2",[^}]*,state="degraded"\} 1$/m);
    expect(text).toMatch(/^lteproxy_modem_rsrp_dbm\{[^}]*modem="3"[^}]*\} -93$/m);
    expect(text).toMatch(/^lteproxy_modem_sinr_db\{[^}]*modem="2"[^}]*\} 15$/m);
    expect(text).toMatch(/^lteproxy_modem_rtt_seconds\{[^}]*\} 0\.0485$/m);
    expect(text).toMatch(/^lteproxy_modem_temperature_celsius\{[^}]*\} 41$/m);
    expect(text).toMatch(/^lteproxy_modem_csq\{[^}]*\} 20$/m);
    expect(text).toMatch(/^lteproxy_modem_public_ip_changes_total\{[^}]*modem="1"[^}]*\} 1$/m);
    expect(text).toContain('lteproxy_rotations_total{node="n1",result="OK"} 1');
    expect(text).toContain('lteproxy_rotations_total{node="n1",result="COLLISION"} 1');
    expect(text).toContain('lteproxy_alerts_open{node="n1",severity="critical",acknowledged="false"} 1');
    expect(text).toMatch(/^lteproxy_event_lag_seconds \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^lteproxy_http_requests_total\{method="GET",route="\/metrics",status="200"\} \d+$/m);
  });

  test("other subsystems' metrics registered in the shared registry appear too", async () => {
    const reg = h.app.decorator.env.metrics;
    reg.histogram("lteproxy_at_command_duration_seconds", "AT command latency", ["command"], [0.1, 1]).observe({ command: "AT+CSQ" }, 0.05);
    const text = await (await scrape({ authorization: `Bearer ${TOKEN}` })).text();
    expect(text).toContain('lteproxy_at_command_duration_seconds_bucket{command="AT+CSQ",le="0.1"} 1');
  });

  const promtool = Bun.which("promtool");
  test.skipIf(!promtool)(`promtool check metrics passes${promtool ? "" : " (SKIPPED: promtool not installed; apt-get install prometheus)"}`, async () => {
    const text = await (await scrape({ authorization: `Bearer ${TOKEN}` })).text();
    const p = Bun.spawn([promtool!, "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, out: out.trim(), err: err.trim() }).toEqual({ code: 0, out: "", err: "" });
  });

  const prometheus = Bun.which("prometheus");
  test.skipIf(!prometheus)(`a real Prometheus scrapes the target and reports it up${prometheus ? "" : " (SKIPPED: prometheus not installed)"}`, async () => {
    const server = h.app.listen({ hostname: "127.0.0.1", port: 0 });
    const appPort = server.server!.port;
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const promPort = probe.port;
    probe.stop(true);
    const dir = mkdtempSync(join(tmpdir(), "lteproxy-prom-"));
    writeFileSync(join(dir, "token"), TOKEN);
    writeFileSync(join(dir, "prometheus.yml"), [
      "global:", "  scrape_interval: 1s", "  scrape_timeout: 900ms",
      "scrape_configs:", "  - job_name: lteproxy", "    authorization:", `      credentials_file: ${join(dir, "token")}`,
      "    static_configs:", `      - targets: ["127.0.0.1:${appPort}"]`, "",
    ].join("\n"));
    const proc = Bun.spawn([prometheus!, `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn"], { stdout: "ignore", stderr: "pipe" });
    try {
      let up: string | null = null;
      let modemUp: string | null = null;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (up !== "1" || modemUp === null)) {
        await Bun.sleep(500);
        const q = async (expr: string) => {
          const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(() => null);
          if (!res?.ok) return null;
          const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
          return body.data.result[0]?.value[1] ?? null;
        };
        up = await q('up{job="lteproxy"}');
        modemUp = await q('lteproxy_modem_up{modem="1"}');
      }
      expect(up).toBe("1");
      expect(modemUp).toBe("1");
    } finally {
      proc.kill();
      await proc.exited;
      await server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
