/**
 * The data-path half of a health check: a small HTTP GET to `health.check_url` bound to the modem's WAN address, so
 * it leaves through that modem's policy route (ec25.md §6: "always verify externally"). The answer body is the
 * public IP the far end saw (the lab's echo server `/ip`, icanhazip style); the round trip is curl's time_total.
 *
 * Same shape as the app's public-IP probe: `curl --interface <addr> <url>`, optionally behind a wrapper argv
 * (the lab runs it inside the box namespace: `ip netns exec <box> curl ...`). Spawning one curl per modem costs
 * ~30 ms of CPU each (100 modems ≈ 3 s on a 2-core box, measured), so a sweep uses `batch`: ONE curl process with
 * `--parallel` and one `--next` block per modem, bodies to per-modem files, a `-w` line per transfer.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../lib/exec.ts";

export interface ProbeResult {
  /** The public IP the check URL saw. */
  ip: string;
  rttMs: number;
}

/** Why a probe failed, when it did (curl's message, an HTTP status, an unusable body). */
export interface ProbeOutcome {
  result: ProbeResult | null;
  error: string | null;
}

/** One probe: `address` is the modem's WAN address, `url` the check URL. Null = the data path failed. */
export type HttpProbeFn = (address: string, url: string) => Promise<ProbeResult | null>;

/** A probe function, optionally with a batch form that probes many addresses in one go. */
export interface HttpProbe extends HttpProbeFn {
  batch?(addresses: readonly string[], url: string): Promise<Map<string, ProbeOutcome>>;
}

export interface CurlProbeOptions {
  /** argv prefix, e.g. ["ip", "netns", "exec", "ltpx-x-box"] in the lab. */
  wrapper?: string[];
  curl?: string;
  /** Per-transfer limit (s). A healthy LTE round trip is < 1 s; 5 s tolerates a congested cell. */
  timeoutS?: number;
  /** Transfers in flight at once in a batch. */
  parallel?: number;
}

const IP_BODY = /^[0-9a-f.:]+$/i;
const WRITE_OUT = "#%s %{http_code} %{time_total} %{exitcode} %{errormsg}\\n";

/** Reads curl's `-w` lines and the body files into outcomes by address (pure apart from reading `bodyOf`). */
export function parseBatchOutput(stdout: string, addresses: readonly string[], bodyOf: (i: number) => string | null): Map<string, ProbeOutcome> {
  const out = new Map<string, ProbeOutcome>();
  for (const a of addresses) out.set(a, { result: null, error: "no answer from curl" });
  for (const line of stdout.split("\n")) {
    const m = /^#(\d+) (\d{3}) ([\d.]+) (\d+) ?(.*)$/.exec(line.trim());
    if (!m) continue;
    const i = Number(m[1]);
    const address = addresses[i];
    if (address === undefined) continue;
    const [status, seconds, exit, message] = [Number(m[2]), Number(m[3]), Number(m[4]), m[5] ?? ""];
    if (exit !== 0) {
      out.set(address, { result: null, error: `curl ${exit}: ${message || "failed"}`.slice(0, 200) });
      continue;
    }
    if (status !== 200) {
      out.set(address, { result: null, error: `HTTP ${status}` });
      continue;
    }
    const body = (bodyOf(i) ?? "").trim();
    if (!IP_BODY.test(body)) {
      out.set(address, { result: null, error: `unusable body ${JSON.stringify(body.slice(0, 40))}` });
      continue;
    }
    out.set(address, { result: { ip: body, rttMs: Math.round(seconds * 1000 * 10) / 10 }, error: null });
  }
  return out;
}

function scratchDir(): string {
  // tmpfs when there is one: a sweep writes one tiny file per modem.
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(join(base, "lteproxy-probe-"));
}

/** The curl-backed probe (single and batch). */
export function curlProbe(opts: CurlProbeOptions = {}): HttpProbe {
  const timeoutS = opts.timeoutS ?? 5;
  const curl = opts.curl ?? "curl";
  const wrapper = opts.wrapper ?? [];

  async function batch(addresses: readonly string[], url: string): Promise<Map<string, ProbeOutcome>> {
    if (addresses.length === 0) return new Map();
    const dir = scratchDir();
    try {
      const argv = [...wrapper, curl, "--no-progress-meter", "--parallel", "--parallel-max", String(opts.parallel ?? 64)];
      addresses.forEach((address, i) => {
        if (i > 0) argv.push("--next");
        argv.push("--max-time", String(timeoutS), "--interface", address, "-o", join(dir, String(i)),
          "-w", WRITE_OUT.replace("%s", String(i)), url);
      });
      // Exit code is the last failure's: per-transfer results come from the -w lines.
      const r = await run(argv, { check: false, timeoutMs: timeoutS * 1000 + 5000 }).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
      const outcomes = parseBatchOutput(r.stdout, addresses, (i) => {
        try {
          return readFileSync(join(dir, String(i)), "utf8").slice(0, 200);
        } catch {
          return null;
        }
      });
      if (r.code === -1) for (const a of addresses) outcomes.set(a, { result: null, error: `curl did not run: ${r.stderr.slice(0, 160)}` });
      return outcomes;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const one = (async (address: string, url: string) => (await batch([address], url)).get(address)?.result ?? null) as HttpProbe;
  one.batch = batch;
  return one;
}

/** Runs `probe` for many addresses: its batch form when it has one, else one call each, `parallel` at a time. */
export async function probeMany(probe: HttpProbe, addresses: readonly string[], url: string, parallel = 16): Promise<Map<string, ProbeOutcome>> {
  if (probe.batch) return probe.batch(addresses, url);
  const out = new Map<string, ProbeOutcome>();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, addresses.length) }, async () => {
    while (next < addresses.length) {
      const a = addresses[next++]!;
      try {
        const r = await probe(a, url);
        out.set(a, { result: r, error: r ? null : "probe failed" });
      } catch (e) {
        out.set(a, { result: null, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }));
  return out;
}
