import { describe, expect, test } from "bun:test";
import { partial } from "../../../src/http/live/partial.ts";
import { renderDashboardMessage, renderRow, renderRowParts, rowUpdate } from "../../../src/http/live/render.ts";
import type { DashboardRow } from "../../../src/http/queries/modem-rows.ts";
import { formatSse, parseSse } from "../../../src/http/sse-frames.ts";

describe("SSE framing", () => {
  test("data lines, event, id after data, blank line terminator", () => {
    expect(formatSse({ id: 42, data: "<tr id=\"modem-1\">\n<td>x</td></tr>" })).toBe('data: <tr id="modem-1">\ndata: <td>x</td></tr>\nid: 42\n\n');
    expect(formatSse({ event: "close", data: "" })).toBe("event: close\ndata: \n\n");
    expect(formatSse({ retry: 2000 })).toBe("retry: 2000\n\n");
    expect(formatSse({ comment: "ping" })).toBe(": ping\n\n");
  });

  test("CR/LF in an id or event name cannot inject fields", () => {
    expect(formatSse({ id: "5\ndata: evil", data: "x" })).toBe("data: x\nid: 5data: evil\n\n");
    expect(formatSse({ event: "a\r\nid: 9", data: "x" })).toBe("event: aid: 9\ndata: x\n\n");
  });

  test("\\r\\n and \\r in data become separate data lines (the browser would split there too)", () => {
    expect(formatSse({ data: "a\r\nb\rc" })).toBe("data: a\ndata: b\ndata: c\n\n");
  });

  test("parseSse round-trips and ignores comments and retry-only blocks", () => {
    const wire = ": connected\n\n" + formatSse({ retry: 2000 }) + formatSse({ id: 7, data: "one\ntwo" }) + formatSse({ event: "x", data: "y" });
    expect(parseSse(wire)).toEqual([{ id: "7", data: "one\ntwo" }, { event: "x", data: "y" }]);
  });
});

describe("dashboard row updates", () => {
  const row = (over: Partial<DashboardRow> = {}) => ({
    id: 7, node_id: "n1", slot: "1-1.7", imei: "860000000000007", iccid: null, state: "online", state_reason: "port 3134", state_since: new Date(0),
    operator: "Telekom.de", rat: "LTE", band: "LTE BAND 3", csq: 20, rsrp: -90, rsrq: -10, sinr_raw: 12, temperature: 40, rtt_ms: 40,
    wan_ip: "10.64.0.7", public_ip: "203.0.113.7", proxy_port: 3134, proxy_enabled: true, last_rotation_at: null, traffic_today: 0,
    updated_at: new Date(0), ...over,
  }) as DashboardRow;
  const o = { sinr: (r: number | null) => r };
  const parts = (over: Partial<DashboardRow> = {}) => renderRowParts(row(over), o, 0);

  test("a new row is sent whole, an unchanged one not at all", () => {
    expect(rowUpdate(7, undefined, parts())).toEqual([{ id: 7, html: renderRow(row(), o, 0) }]);
    expect(rowUpdate(7, parts(), parts())).toBeNull();
  });

  test("a signal change is one cell: its new content, for the 7th column", () => {
    const u = rowUpdate(7, parts(), parts({ rsrp: -104, sinr_raw: 3 }));
    expect(u).toEqual([{ id: 7, cell: 6, inner: '<i class="bars b2"></i><span>-104/3</span>' }]);
    const msg = renderDashboardMessage(u!, null, null, 42);
    expect(msg).toEqual({ id: 42, data: '<hx-partial hx-target="#modem-7>:nth-child(7)" hx-swap="innerHTML"><i class="bars b2"></i><span>-104/3</span></hx-partial>' });
  });

  test("a state change, a new tooltip or many changed cells send the whole row", () => {
    expect(rowUpdate(7, parts(), parts({ state: "degraded" }))![0]).toHaveProperty("html");
    expect(rowUpdate(7, parts(), parts({ state_reason: "probe failed" }))![0]).toHaveProperty("html");
    const many = rowUpdate(7, parts(), parts({ operator: "o2", band: "LTE BAND 20", rsrp: -70, wan_ip: "10.64.0.99", public_ip: "198.51.100.1" }));
    expect(many).toHaveLength(1);
    expect(many![0]).toHaveProperty("html");
  });

  test("cell contents stay escaped; partial targets accept only ids and a cell position", () => {
    const u = rowUpdate(7, parts(), parts({ operator: "<script>x</script>" }));
    expect(u).toEqual([{ id: 7, cell: 4, inner: "&lt;script&gt;x&lt;/script&gt;" }]);
    expect(() => partial("#modem-7>:nth-child(7)", "innerHTML", "x")).not.toThrow();
    for (const bad of ["#modem-7 td", "#a>:nth-child(0)", "#a>:nth-child(100)", "#a,b", "#a>:nth-child(1)>i"]) {
      expect(() => partial(bad, "innerHTML", "x")).toThrow();
    }
  });
});
