/**
 * `lteproxy cert`: a self-signed TLS certificate for the panel, valid for the box's names and addresses, made with
 * the openssl CLI (Bun has no X.509 writer, and hand-building DER is not worth the risk). The key is written
 * 0600 and both files take the data dir's owner (the service user on an installed box). Prints the config lines
 * that turn HTTPS on; the running control plane picks them up on its next start.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import type { Config } from "../config.ts";
import { AppError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { intFlag, parseArgs, strFlag } from "./args.ts";

export const CERT_USAGE = `lteproxy cert [--out DIR] [--names a,b] [--ips x,y] [--days N] [--force] [--config FILE]

Makes a self-signed certificate and key for the web panel (needs the openssl program), valid for this box's
hostname, hostname.local, localhost, the configured public URL and proxy host, and every address of its interfaces,
plus --names/--ips. Writes DIR/panel-cert.pem and DIR/panel-key.pem (mode 0600); DIR defaults to <data dir>/tls.
Refuses to overwrite existing files without --force. Prints the config lines that enable HTTPS.`;

export interface CertSubject {
  names: string[];
  ips: string[];
}

const DNS_NAME = /^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function splitList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/** The names and addresses a technician may reach the panel by. Link-local IPv6 is left out (it needs a zone). */
export function boxSubject(config: Config, extra: { names?: string[]; ips?: string[] } = {}): CertSubject {
  const names = new Set<string>();
  const ips = new Set<string>(["127.0.0.1", "::1"]);
  const host = hostname().toLowerCase();
  if (DNS_NAME.test(host)) names.add(host).add(host.includes(".") ? host : `${host}.local`);
  names.add("localhost");
  const addHost = (h: string) => {
    const bare = h.replace(/^\[|\]$/g, "");
    if (isIP(bare)) ips.add(bare);
    else if (bare) names.add(bare.toLowerCase());
  };
  if (config.http.public_url) {
    try {
      addHost(new URL(config.http.public_url).hostname);
    } catch {
      // an unparsable public_url is config's to report, not the certificate's
    }
  }
  if (config.proxy.public_host) addHost(config.proxy.public_host);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.toLowerCase().startsWith("fe80:")) ips.add(a.address);
  }
  for (const n of extra.names ?? []) {
    if (!DNS_NAME.test(n)) throw new AppError("CLI_USAGE", `--names: ${JSON.stringify(n)} is not a DNS name`);
    names.add(n.toLowerCase());
  }
  for (const ip of extra.ips ?? []) {
    if (!isIP(ip)) throw new AppError("CLI_USAGE", `--ips: ${JSON.stringify(ip)} is not an IP address`);
    ips.add(ip);
  }
  return { names: [...names], ips: [...ips] };
}

/** The subjectAltName extension value for openssl -addext. */
export function subjectAltName(s: CertSubject): string {
  return [...s.names.map((n) => `DNS:${n}`), ...s.ips.map((ip) => `IP:${ip}`)].join(",");
}

export interface MadeCert {
  certPath: string;
  keyPath: string;
  fingerprint: string;
  validTo: string;
  subject: CertSubject;
}

/** Writes the pair into `dir` (atomically: a half-written key never replaces a good one). */
export async function makeSelfSignedCert(opts: {
  dir: string;
  subject: CertSubject;
  days?: number;
  force?: boolean;
  /** The openssl program; default: found on PATH. null: not available (tests). */
  openssl?: string | null;
}): Promise<MadeCert> {
  const openssl = opts.openssl === undefined ? Bun.which("openssl") : opts.openssl;
  if (!openssl) throw new AppError("CERT_NO_OPENSSL", "lteproxy cert needs the openssl program (apt install openssl)");
  const certPath = join(opts.dir, "panel-cert.pem");
  const keyPath = join(opts.dir, "panel-key.pem");
  if (!opts.force && (existsSync(certPath) || existsSync(keyPath))) {
    throw new AppError("CERT_EXISTS", `${certPath} or ${keyPath} exists; use --force to replace them`);
  }
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(opts.dir, ".cert-"));
  try {
    const [tmpCert, tmpKey] = [join(tmp, "cert.pem"), join(tmp, "key.pem")];
    const cn = opts.subject.names[0] ?? opts.subject.ips[0] ?? "lteproxy";
    await run([
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-sha256",
      "-days", String(opts.days ?? 825), "-subj", `/O=lteproxy/CN=${cn}`, "-keyout", tmpKey, "-out", tmpCert,
      "-addext", `subjectAltName=${subjectAltName(opts.subject)}`,
      "-addext", "basicConstraints=critical,CA:FALSE",
      "-addext", "keyUsage=critical,digitalSignature",
      "-addext", "extendedKeyUsage=serverAuth",
    ], { timeoutMs: 30_000 });
    chmodSync(tmpKey, 0o600);
    chmodSync(tmpCert, 0o644);
    // the service user (owner of the data dir) must be able to read its key when this ran as root
    const owner = statSync(opts.dir);
    if (process.getuid?.() === 0) for (const f of [tmpKey, tmpCert]) chownSync(f, owner.uid, owner.gid);
    renameSync(tmpKey, keyPath);
    renameSync(tmpCert, certPath);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const x509 = new X509Certificate(await Bun.file(certPath).text());
  return { certPath, keyPath, fingerprint: x509.fingerprint256, validTo: x509.validTo, subject: opts.subject };
}

/** The lines to put in the config file (or the environment). */
export function enableLines(c: Pick<MadeCert, "certPath" | "keyPath">): string {
  return [
    "[http]",
    `tls_cert = ${JSON.stringify(c.certPath)}`,
    `tls_key = ${JSON.stringify(c.keyPath)}`,
    "",
    "# or in the environment (/etc/lteproxy/lteproxy.env):",
    `LTEPROXY_HTTP_TLS_CERT=${c.certPath}`,
    `LTEPROXY_HTTP_TLS_KEY=${c.keyPath}`,
  ].join("\n");
}

/** The flags of `lteproxy cert` (main.ts parses --config with the same spec). */
export const CERT_ARGS = { values: ["out", "names", "ips", "days", "config"], booleans: ["force"] };

export async function certCommand(argv: string[], config: Config): Promise<number> {
  const args = parseArgs(argv, CERT_ARGS);
  if (args.flags.help) {
    console.log(CERT_USAGE);
    return 0;
  }
  if (args.positionals.length) throw new AppError("CLI_USAGE", `unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const subject = boxSubject(config, { names: splitList(strFlag(args, "names")), ips: splitList(strFlag(args, "ips")) });
  const made = await makeSelfSignedCert({
    dir: strFlag(args, "out") ?? join(config.paths.data_dir, "tls"),
    subject,
    days: intFlag(args, "days", 825, 1, 3650),
    force: args.flags.force === true,
  });
  console.log(`wrote ${made.certPath}\n  and ${made.keyPath} (mode 0600)`);
  console.log(`valid until ${made.validTo} for ${subjectAltName(made.subject).replace(/,/g, ", ")}`);
  console.log(`SHA-256 fingerprint (compare it when the browser warns about the self-signed certificate):\n  ${made.fingerprint}`);
  console.log(`\nTo serve the panel over HTTPS, add to the config file and restart lteproxy:\n\n${enableLines(made)}`);
  return 0;
}
