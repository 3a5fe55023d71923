/**
 * dns-relay.json: the 3proxy backend writes it (atomically, on every apply) and `lteproxy dns-relay` reads it.
 * Same contract as the engine's proxy.json (engine/config-file.ts): tmp + fsync + rename, watched through the
 * directory because the rename replaces the inode.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { AppError } from "../../lib/errors.ts";
import { defaultRuntimeDir } from "../engine/runtime-dir.ts";
import { writeFileAtomic } from "../three-proxy/atomic-write.ts";
import { validateDnsRelayEntries, type DnsRelayEntry } from "./relay.ts";

const EntrySchema = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
  outAddress: v.string(),
  servers: v.pipe(v.array(v.string()), v.minLength(1, "needs at least one carrier DNS server")),
});

const FileSchema = v.object({
  version: v.optional(v.union([v.string(), v.number()]), ""),
  entries: v.array(EntrySchema),
});

export interface DnsRelayFile {
  version: string | number;
  entries: DnsRelayEntry[];
}

/** `<runtime dir>/dns-relay.json` ($LTEPROXY_RUNTIME_DIR, /run/lteproxy as root). */
export function defaultDnsRelayConfigPath(env: Record<string, string | undefined> = process.env): string {
  return join(defaultRuntimeDir(env), "dns-relay.json");
}

/** Validates parsed JSON; throws AppError DNS_RELAY_INVALID with the first few problems. */
export function parseDnsRelayFile(input: unknown): DnsRelayFile {
  const result = v.safeParse(FileSchema, input);
  if (!result.success) {
    const issues = result.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
    throw new AppError("DNS_RELAY_INVALID", `invalid DNS relay config: ${issues.slice(0, 5).join("; ")}`, { issues });
  }
  validateDnsRelayEntries(result.output.entries);
  return result.output;
}

/** Reads and validates the file. Throws DNS_RELAY_MISSING, DNS_RELAY_JSON or DNS_RELAY_INVALID. */
export function readDnsRelayFile(path: string): { config: DnsRelayFile; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError("DNS_RELAY_MISSING", `cannot read DNS relay config ${path}`, { path }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError("DNS_RELAY_JSON", `DNS relay config ${path} is not JSON: ${(e as Error).message}`, { path });
  }
  return { config: parseDnsRelayFile(json), text };
}

/**
 * Atomically replaces `path` (validated first, so the writer cannot hand the relay a file it would refuse). Entries
 * are sorted by id so the same modems give the same bytes; an unchanged file is not rewritten (returns false).
 * Mode 0640: the relay may run as another user of the lteproxy group.
 */
export function writeDnsRelayFile(path: string, config: DnsRelayFile, opts: { uid?: number; gid?: number } = {}): boolean {
  const entries = [...config.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => ({ id: e.id, port: e.port, outAddress: e.outAddress, servers: [...e.servers] }));
  const body = { version: config.version, entries };
  parseDnsRelayFile(body);
  mkdirSync(dirname(path), { recursive: true });
  return writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`, { ...opts, mode: 0o640, skipUnchanged: true });
}
