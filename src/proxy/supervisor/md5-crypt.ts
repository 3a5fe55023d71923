/**
 * MD5-crypt (`$1$salt$digest`, the FreeBSD/glibc crypt(3) scheme) for 3proxy's `CR` users entries. 3proxy checks a CR
 * password with its own `mycrypt()`, which implements exactly `$1$` (src/3proxy_crypt.c). The engines receive only
 * argon2 hashes, which 3proxy cannot verify, so the 3proxy backend renders `$1$` hashes from the clear password the
 * panel keeps in proxy_users.password: the files under /etc/3proxy then never hold a clear password.
 */
import { createHash } from "node:crypto";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function md5(...parts: Array<Buffer | string>): Buffer {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
}

function to64(value: number, n: number): string {
  let out = "";
  for (let v = value; n > 0; n--, v >>>= 6) out += ITOA64[v & 0x3f];
  return out;
}

/** True when `salt` is 1-8 characters of the crypt alphabet. */
export function isCryptSalt(salt: string): boolean {
  return /^[./0-9A-Za-z]{1,8}$/.test(salt);
}

/** A stable 8-character salt derived from `seed` (so re-rendering the same user gives the same line). */
export function cryptSalt(seed: string): string {
  const d = createHash("sha256").update(`lteproxy-3proxy-salt:${seed}`).digest();
  let out = "";
  for (let i = 0; i < 8; i++) out += ITOA64[d[i]! & 0x3f];
  return out;
}

/** `$1$<salt>$<22 chars>` for `password`. Throws on a salt outside the crypt alphabet. */
export function md5Crypt(password: string, salt: string): string {
  if (!isCryptSalt(salt)) throw new Error("md5Crypt: salt must be 1-8 characters of [./0-9A-Za-z]");
  const pw = Buffer.from(password, "utf8");
  const magic = "$1$";
  const alt = md5(pw, salt, pw);
  const ctx = createHash("md5");
  ctx.update(pw);
  ctx.update(magic);
  ctx.update(salt);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(16, left)));
  // "Then something really weird": a zero byte for set bits, the first password byte for clear ones.
  for (let i = pw.length; i > 0; i >>>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash("md5");
    c.update(i & 1 ? pw : final);
    if (i % 3) c.update(salt);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? final : pw);
    final = c.digest();
  }
  const f = final;
  const digest =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `${magic}${salt}$${digest}`;
}
