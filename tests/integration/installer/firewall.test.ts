/**
 * The firewall the installer writes, under real packets: install.sh --root into an empty staging dir (no userland,
 * no packages), load the generated /etc/nftables.d/lteproxy.nft into a network namespace made for this test, and
 * connect from a LAN address, a non-LAN address and a WWAN-named interface. Only namespaces this test creates are
 * touched; they are removed even when an assertion fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTALL, runScript, writeDummyBinary } from "./helpers.ts";

const canRun = process.getuid?.() === 0 && Bun.which("ip") !== null && Bun.which("nft") !== null && Bun.which("curl") !== null;
if (!canRun) console.warn("SKIPPED firewall test: needs root, ip, nft and curl");

const id = `${(process.pid % 1296).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.padEnd(4, "0");
const SRV = `ltpfw-${id}-srv`;
const CLI = `ltpfw-${id}-cli`;
const dir = mkdtempSync(join(tmpdir(), "ltp-fw-"));
let server: { kill(signal?: number | NodeJS.Signals): void } | undefined;

function sh(argv: string[], check = true): { code: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20_000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (check && r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${out}`);
  return { code: r.status ?? -1, out };
}
const inNs = (ns: string, argv: string[], check = true) => sh(["ip", "netns", "exec", ns, ...argv], check);

/** HTTP GET from the client namespace, from a given source address; "" when the connection is dropped. */
async function fetchFrom(src: string, dst: string, port: number): Promise<string> {
  const p = Bun.spawn(["ip", "netns", "exec", CLI, "curl", "-s", "--connect-timeout", "1", "--max-time", "2",
    "--interface", src, `http://${dst}:${port}/`], { stdout: "pipe", stderr: "ignore" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return out;
}

beforeAll(async () => {
  if (!canRun) return;
  writeDummyBinary(join(dir, "lteproxy"), "0.0.0-fw");
  const root = join(dir, "root");
  sh(["mkdir", "-p", root]);
  const r = runScript(INSTALL, ["--root", root, "--binary", join(dir, "lteproxy"), "--ignore-os", "--no-packages",
    "--lan", "192.168.77.0/24,192.168.88.0/24,fd00:77::/64", "--proxy-ports", "3128-3130", "--http-port", "8080"], 60_000);
  if (r.code !== 0) throw new Error(`install.sh failed:\n${r.out}`);

  sh(["ip", "netns", "add", SRV]);
  sh(["ip", "netns", "add", CLI]);
  // LAN link: the client owns a LAN address and a non-LAN one on the same wire.
  sh(["ip", "link", "add", `ltfl${id}`, "netns", SRV, "type", "veth", "peer", "name", `ltfc${id}`, "netns", CLI]);
  // A second link whose server side is named like a modem (ww*), carrying an address inside the LAN set.
  sh(["ip", "link", "add", `ww${id}s`, "netns", SRV, "type", "veth", "peer", "name", `ltfw${id}`, "netns", CLI]);
  for (const [ns, cmds] of [
    [SRV, [["ip", "addr", "add", "192.168.77.1/24", "dev", `ltfl${id}`], ["ip", "addr", "add", "198.51.100.1/24", "dev", `ltfl${id}`],
      ["ip", "addr", "add", "192.168.88.1/24", "dev", `ww${id}s`], ["ip", "link", "set", `ltfl${id}`, "up"],
      ["ip", "link", "set", `ww${id}s`, "up"], ["ip", "link", "set", "lo", "up"]]],
    [CLI, [["ip", "addr", "add", "192.168.77.2/24", "dev", `ltfc${id}`], ["ip", "addr", "add", "198.51.100.2/24", "dev", `ltfc${id}`],
      ["ip", "addr", "add", "192.168.88.2/24", "dev", `ltfw${id}`], ["ip", "link", "set", `ltfc${id}`, "up"],
      ["ip", "link", "set", `ltfw${id}`, "up"], ["ip", "link", "set", "lo", "up"]]],
  ] as const) for (const c of cmds) inNs(ns, [...c]);
  // Loaded twice: the file must replace its own table, as nftables.service reloads do.
  const nftFile = join(root, "etc/nftables.d/lteproxy.nft");
  inNs(SRV, ["nft", "-f", nftFile]);
  inNs(SRV, ["nft", "-f", nftFile]);
  const proc = Bun.spawn(["ip", "netns", "exec", SRV, process.execPath, "-e",
    'for (const port of [3129, 8080, 5000]) Bun.serve({ port, hostname: "0.0.0.0", fetch: () => new Response("ok") }); console.log("ready");'],
  { stdout: "pipe", stderr: "inherit" });
  server = proc;
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).includes("ready")) throw new Error("test server did not start");
}, 60_000);

afterAll(() => {
  server?.kill("SIGKILL");
  for (const ns of [SRV, CLI]) sh(["ip", "netns", "del", ns], false);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!canRun)("installed nftables rules", () => {
  test("the table loads once, with the configured ports and networks", () => {
    const listed = inNs(SRV, ["nft", "list", "table", "inet", "lteproxy"]).out;
    expect(listed).toContain("tcp dport 3128-3130 drop");
    expect(listed).toContain("192.168.77.0/24");
    expect(listed).toContain("fd00:77::/64");
    expect(inNs(SRV, ["nft", "list", "tables"]).out.match(/inet lteproxy/g)).toHaveLength(1);
    expect(readFileSync(join(dir, "root/etc/nftables.d/lteproxy.nft"), "utf8")).not.toMatch(/@[A-Z0-9_]+@/);
  });

  test("a LAN client reaches the proxy ports and the panel", async () => {
    expect(await fetchFrom("192.168.77.2", "192.168.77.1", 3129)).toBe("ok");
    expect(await fetchFrom("192.168.77.2", "192.168.77.1", 8080)).toBe("ok");
  });

  test("a non-LAN source is dropped on our ports and untouched elsewhere", async () => {
    expect(await fetchFrom("198.51.100.2", "198.51.100.1", 3129)).toBe("");
    expect(await fetchFrom("198.51.100.2", "198.51.100.1", 8080)).toBe("");
    expect(await fetchFrom("198.51.100.2", "198.51.100.1", 5000)).toBe("ok");
  });

  test("traffic arriving on a ww* interface is dropped even from a LAN address", async () => {
    expect(await fetchFrom("192.168.88.2", "192.168.88.1", 3129)).toBe("");
    expect(await fetchFrom("192.168.88.2", "192.168.88.1", 8080)).toBe("");
    expect(await fetchFrom("192.168.88.2", "192.168.88.1", 5000)).toBe("ok");
  });
});
