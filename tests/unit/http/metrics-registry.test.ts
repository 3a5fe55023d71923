import { describe, expect, test } from "bun:test";
import { MetricsRegistry, renderFamilies } from "../../../src/http/metrics-registry.ts";

describe("metrics registry", () => {
  test("counter, gauge and histogram in the text exposition format", async () => {
    const r = new MetricsRegistry();
    r.counter("lteproxy_things_total", "Things done", ["kind"]).inc({ kind: "a" });
    r.counter("lteproxy_things_total", "Things done", ["kind"]).inc({ kind: "a" }, 2);
    r.gauge("lteproxy_level", "A level").set({}, 1.5);
    const h = r.histogram("lteproxy_op_seconds", "Op time", ["op"], [0.1, 1]);
    h.observe({ op: "x" }, 0.05);
    h.observe({ op: "x" }, 0.5);
    h.observe({ op: "x" }, 5);
    const text = await r.render();
    expect(text).toBe(
      [
        "# HELP lteproxy_things_total Things done",
        "# TYPE lteproxy_things_total counter",
        'lteproxy_things_total{kind="a"} 3',
        "# HELP lteproxy_level A level",
        "# TYPE lteproxy_level gauge",
        "lteproxy_level 1.5",
        "# HELP lteproxy_op_seconds Op time",
        "# TYPE lteproxy_op_seconds histogram",
        'lteproxy_op_seconds_bucket{op="x",le="0.1"} 1',
        'lteproxy_op_seconds_bucket{op="x",le="1"} 2',
        'lteproxy_op_seconds_bucket{op="x",le="+Inf"} 3',
        'lteproxy_op_seconds_sum{op="x"} 5.55',
        'lteproxy_op_seconds_count{op="x"} 3',
        "",
      ].join("\n"),
    );
  });

  test("label values are escaped; help newlines too", () => {
    const text = renderFamilies([{ name: "lteproxy_x", help: "a\nb \\ c", type: "gauge", samples: [{ labels: { op: 'Tele"kom\\\n<x>' }, value: 1 }] }]);
    expect(text).toContain("# HELP lteproxy_x a\\nb \\\\ c");
    expect(text).toContain('lteproxy_x{op="Tele\\"kom\\\\\\n<x>"} 1');
  });

  test("conventions are enforced: counters end in _total, names and labels are valid", () => {
    const r = new MetricsRegistry();
    expect(() => r.counter("lteproxy_bad", "x")).toThrow(/_total/);
    expect(() => r.gauge("bad-name", "x")).toThrow(/invalid metric name/);
    expect(() => r.gauge("lteproxy_ok", "x", ["bad-label"])).toThrow(/invalid label/);
    expect(() => r.histogram("lteproxy_h", "x", ["le"])).toThrow(/le/);
    r.gauge("lteproxy_same", "x");
    expect(() => r.counter("lteproxy_same", "x")).toThrow();
    const c = r.counter("lteproxy_c_total", "x", ["a"]);
    expect(() => c.inc({ b: "1" } as never)).toThrow(/unknown label/);
    expect(() => c.inc({ a: "1" }, -1)).toThrow(/decrease/);
  });

  test("collectors run at scrape time; a failing collector is skipped, others still render", async () => {
    const r = new MetricsRegistry();
    let n = 0;
    r.collect(() => [{ name: "lteproxy_scrapes", help: "n", type: "gauge", samples: [{ value: ++n }] }]);
    r.collect(() => {
      throw new Error("db down");
    });
    expect(await r.render()).toContain("lteproxy_scrapes 1");
    expect(await r.render()).toContain("lteproxy_scrapes 2");
  });

  test("families with the same name from several sources are merged into one block", () => {
    const text = renderFamilies([
      { name: "lteproxy_m", help: "m", type: "gauge", samples: [{ labels: { a: "1" }, value: 1 }] },
      { name: "lteproxy_m", help: "m", type: "gauge", samples: [{ labels: { a: "2" }, value: 2 }] },
    ]);
    expect(text.match(/# TYPE lteproxy_m/g)?.length).toBe(1);
    expect(text).toContain('lteproxy_m{a="2"} 2');
  });
});
