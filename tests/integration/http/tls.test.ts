/**
 * `lteproxy cert` makes a self-signed pair that the panel serves over TLS: real openssl, Bun.serve's tls option
 * (as src/app.ts passes http.tls_cert / tls_key) and real curl, verifying the certificate against itself for the
 * box's addresses, plus the HTTPS-only response parts (HSTS, the Secure session cookie).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir, hostname } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { makeHarness, PASSWORDS, type Harness } from "./harness.ts";
import { certCommand, makeSelfSignedCert } from "../../../src/cli/cert.ts";
import { loadConfig } from "../../../src/config.ts";

const haveTools = Boolean(Bun.which("openssl") && Bun.which("curl"));
if (!haveTools) console.warn("SKIP tests/integration/http/tls: needs openssl and curl");

let h: Harness;
let dir: string;

async function curl(args: string[]) {
  const p = Bun.spawn(["curl", "-sS", "-m", "5", "-o", "-", "-D", "-", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await fn(), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe.skipIf(!haveTools)("lteproxy cert + HTTPS", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lteproxy-cert-"));
    h = await makeHarness();
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("writes cert + 0600 key for the box's names and IPs and prints the config lines; no silent overwrite", async () => {
    const config = loadConfig({ env: {}, overrides: { paths: { data_dir: dir }, http: { public_url: "https://panel.lab.example:8443/" } } });
    const { code, out } = await captured(() => certCommand(["--names", "lteproxy-07.lan", "--ips", "192.0.2.10"], config));
    expect(code).toBe(0);
    const certPath = join(dir, "tls", "panel-cert.pem");
    const keyPath = join(dir, "tls", "panel-key.pem");
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(out).toContain(`tls_cert = "${certPath}"`);
    expect(out).toContain(`tls_key = "${keyPath}"`);
    expect(out).toContain(`LTEPROXY_HTTP_TLS_CERT=${certPath}`);
    const x509 = new X509Certificate(await Bun.file(certPath).text());
    const san = x509.subjectAltName ?? "";
    for (const want of ["DNS:localhost", "DNS:panel.lab.example", "DNS:lteproxy-07.lan", "IP Address:127.0.0.1", "IP Address:192.0.2.10"]) {
      expect(san).toContain(want);
    }
    if (/^[a-z0-9.-]+$/i.test(hostname())) expect(san).toContain(`DNS:${hostname().toLowerCase()}`);
    expect(out).toContain(x509.fingerprint256);
    // a second run keeps the existing pair unless --force
    await expect(certCommand([], config)).rejects.toMatchObject({ code: "CERT_EXISTS" });
    expect(new X509Certificate(await Bun.file(certPath).text()).fingerprint256).toBe(x509.fingerprint256);
    const forced = await captured(() => certCommand(["--force"], config));
    expect(forced.code).toBe(0);
    expect(new X509Certificate(await Bun.file(certPath).text()).fingerprint256).not.toBe(x509.fingerprint256);
    await expect(certCommand(["--ips", "not-an-ip"], config)).rejects.toMatchObject({ code: "CLI_USAGE" });
  });

  test("without openssl it fails with a clear error and writes nothing", async () => {
    const out = join(dir, "none");
    await expect(makeSelfSignedCert({ dir: out, subject: { names: ["x"], ips: [] }, openssl: null })).rejects.toMatchObject({ code: "CERT_NO_OPENSSL" });
    expect(await Bun.file(join(out, "panel-key.pem")).exists()).toBe(false);
  });

  test("the panel serves TLS with it: curl verifies it against itself, HSTS and Secure cookies", async () => {
    const certPath = join(dir, "tls", "panel-cert.pem");
    const keyPath = join(dir, "tls", "panel-key.pem");
    h.app.listen({ hostname: "127.0.0.1", port: 0, tls: { cert: Bun.file(certPath), key: Bun.file(keyPath) } });
    const base = `https://127.0.0.1:${h.app.server!.port}`;
    const insecure = await curl(["-k", `${base}/healthz`]);
    expect(insecure.err).toBe("");
    expect(insecure.out).toMatch(/^HTTP\/[\d.]+ 200/);
    // the certificate is valid for 127.0.0.1: verification against it as the CA succeeds without -k
    const verified = await curl(["--cacert", certPath, `${base}/healthz`]);
    expect(verified.code).toBe(0);
    expect(verified.out.toLowerCase()).toContain("strict-transport-security: max-age=31536000");
    // plain HTTP to the TLS port gets no panel
    expect((await curl([`http://127.0.0.1:${h.app.server!.port}/healthz`])).out).not.toContain('"ok":true');
    const login = await curl([
      "--cacert", certPath, "-X", "POST", "-H", `Origin: ${base}`, "-H", "HX-Request: true",
      "--data-urlencode", "username=viewer", "--data-urlencode", `password=${PASSWORDS.viewer}`, `${base}/login`,
    ]);
    expect(login.out).toMatch(/^HTTP\/[\d.]+ 204/);
    expect(login.out).toMatch(/set-cookie: lteproxy_session=[^\r\n]*; Secure/i);
  });
});
