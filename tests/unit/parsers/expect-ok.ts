/** Test helper: the value of a successful parse; throws (failing the test) with the parser's error otherwise. */
export function okValue<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  return r.value;
}
