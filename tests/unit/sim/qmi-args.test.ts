import { expect, test } from "bun:test";
import { parseQmicliArgs, parseStartNetwork } from "../../../src/sim/qmi/args.ts";
import { sinrLevel } from "../../../src/sim/qmi/format.ts";

test("qmicli options the way GOption reads them", () => {
  const r = parseQmicliArgs(["-p", "-d", "/dev/cdc-wdm0", "--device-open-net=net-raw-ip|net-no-qos-header",
    "--wds-start-network=apn='internet',ip-type=4", "--client-no-release-cid"]);
  expect(r).toEqual({ ok: true, inv: { device: "/dev/cdc-wdm0", noRelease: true, help: false, version: false,
    actions: [{ name: "wds-start-network", value: "apn='internet',ip-type=4", service: "wds" }] } });
  const s = parseQmicliArgs(["--device=/x", "--wds-stop-network", "744952640", "--client-cid=21"]);
  expect(s.ok && s.inv).toMatchObject({ device: "/x", clientCid: "21", actions: [{ name: "wds-stop-network", value: "744952640" }] });
  const w = parseQmicliArgs(["-d/x", "-w"]);
  expect(w.ok && w.inv).toMatchObject({ device: "/x", actions: [{ name: "get-wwan-iface", service: "generic" }] });
  expect(parseQmicliArgs(["--bogus"])).toEqual({ ok: false, error: "Unknown option --bogus" });
  expect(parseQmicliArgs(["-d"])).toEqual({ ok: false, error: "Missing argument for -d" });
});

test("--wds-start-network key=value list, quotes, legacy form, errors", () => {
  expect(parseStartNetwork("apn='internet',ip-type=4")).toEqual({ ok: true, apn: "internet", ipType: 4 });
  expect(parseStartNetwork("apn=internet,ip-type=4")).toEqual({ ok: true, apn: "internet", ipType: 4 });
  expect(parseStartNetwork("3gpp-profile=2,username=u,password=p,auth=CHAP")).toEqual({ ok: true, profile: 2, user: "u" });
  expect(parseStartNetwork("internet")).toEqual({ ok: true, apn: "internet", user: undefined });
  expect(parseStartNetwork("apn=x,ip-type=5")).toMatchObject({ ok: false, error: "couldn't parse input string: unknown IP type '5' (not 4 or 6)" });
  expect(parseStartNetwork("colour=blue")).toMatchObject({ ok: false });
});

test("SINR level table of libqmi", () => {
  expect(sinrLevel(-20)).toBe(0);
  expect(sinrLevel(1)).toBe(5);
  expect(sinrLevel(9)).toBe(8);
  expect(sinrLevel(30)).toBe(8);
});
