/** argon2id password hashing (Bun.password) and the one-time passwords printed on first run. */
import { randomBytes } from "node:crypto";

/** OWASP's argon2id minimum (m=19 MiB, t=2) is the floor; these are a bit above it and take ~30 ms on the box. */
const ARGON = { algorithm: "argon2id" as const, memoryCost: 19456, timeCost: 2 };

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false; // a corrupt hash is a failed login, not a 500
  }
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for unknown users: the answer time must not tell an attacker
 * whether a username exists.
 */
export async function burnVerification(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString("hex"));
  await verifyPassword(password, await dummy);
}

/** A random password without look-alike characters, for the first admin and for resets. */
export function generatePassword(length = 20): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}
