/**
 * The one result convention of every parser in src/modem/parsers and src/net/qmi/parsers.ts:
 * a parser never throws; it returns `{ ok: true, value }` or `{ ok: false, error }` with a short
 * human-readable reason. Fields a device reports as unknown/unavailable (`-`, 99, 255, missing) are
 * `null` inside a successful value, not errors.
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): ParseResult<T> {
  return { ok: false, error };
}

/** Shortens untrusted text for an error message (device output can be long or binary). */
export function snippet(s: unknown, max = 60): string {
  const str = typeof s === "string" ? s : String(s);
  const clean = str.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Wraps a parser body so that an unexpected exception (a bug, or input that is not an array of strings)
 * still becomes `{ ok: false }`. Every exported parser goes through this.
 */
export function safe<A extends unknown[], T>(name: string, body: (...args: A) => ParseResult<T>): (...args: A) => ParseResult<T> {
  return (...args: A) => {
    try {
      return body(...args);
    } catch (e) {
      return fail(`${name}: internal parser error: ${snippet(e instanceof Error ? e.message : e)}`);
    }
  };
}
