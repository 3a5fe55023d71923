/**
 * valibot at the edge: every body, query and path parameter goes through a schema; failures become 422 with
 * per-field messages (forms re-render them next to the inputs), malformed bodies 400.
 */
import * as v from "valibot";
import { HttpError, invalid } from "./errors.ts";
import { BAD_BODY } from "./body-parser.ts";

export function issuesToFields(issues: readonly v.BaseIssue<unknown>[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const key = (issue.path ?? []).map((p) => String(p.key)).join(".") || "_";
    fields[key] ??= issue.message;
  }
  return fields;
}

/**
 * PostgreSQL text cannot hold NUL, and no field of ours needs one: find the first string that has one (depth- and
 * size-bounded walk), so it is refused here instead of failing deep inside a query.
 */
export function findNul(input: unknown, path = "", depth = 0): string | null {
  if (typeof input === "string") return input.includes("\u0000") ? path || "_" : null;
  if (depth > 20 || input === null || typeof input !== "object") return null;
  const entries = Array.isArray(input) ? input.slice(0, 1000).map((x, i) => [String(i), x] as const) : Object.entries(input).slice(0, 1000);
  for (const [k, x] of entries) {
    if (k.includes("\u0000")) return path ? `${path}.?` : "?";
    const hit = findNul(x, path ? `${path}.${k}` : k, depth + 1);
    if (hit) return hit;
  }
  return null;
}

/** Validates `input`; throws HttpError 422 (fields) or 400 (a body that could not be parsed at all). */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown, what = "request"): v.InferOutput<S> {
  if (input === BAD_BODY) throw new HttpError(400, "INVALID_BODY", "the request body could not be parsed");
  const nul = findNul(input);
  if (nul) throw invalid({ [nul]: "NUL characters are not allowed" }, `invalid ${what}`);
  const r = v.safeParse(schema, input ?? {});
  if (!r.success) throw invalid(issuesToFields(r.issues), `invalid ${what}`);
  return r.output;
}

/** Like parseInput but returns the issues instead of throwing (forms that re-render with errors). */
export function checkInput<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; fields: Record<string, string> } {
  if (input === BAD_BODY) return { ok: false, fields: { _: "the request body could not be parsed" } };
  const nul = findNul(input);
  if (nul) return { ok: false, fields: { [nul]: "NUL characters are not allowed" } };
  const r = v.safeParse(schema, input ?? {});
  return r.success ? { ok: true, value: r.output } : { ok: false, fields: issuesToFields(r.issues) };
}

/** Reusable pieces. */
export const IdParam = v.pipe(
  v.string("an id"),
  v.regex(/^[1-9][0-9]{0,15}$/, "a positive integer id"),
  v.transform(Number),
  v.maxValue(Number.MAX_SAFE_INTEGER, "a positive integer id"),
);

/** Optional integer from a query string with bounds. */
export function queryInt(min: number, max: number) {
  return v.optional(
    v.pipe(
      v.string(`an integer from ${min} to ${max}`),
      v.regex(/^-?[0-9]{1,16}$/, `an integer from ${min} to ${max}`),
      v.transform(Number),
      v.minValue(min, `an integer from ${min} to ${max}`),
      v.maxValue(max, `an integer from ${min} to ${max}`),
    ),
  );
}

/** Optional short text from a query string; empty means absent. */
export function queryText(max = 64) {
  return v.optional(
    v.pipe(
      v.string("text"),
      v.maxLength(max, `at most ${max} characters`),
      v.transform((s) => s.trim() || undefined),
    ),
  );
}
