/**
 * Splits one AT command line into its commands (pure). V.250 rules as the EC25 applies them (ec25.md §3.2, §3.4):
 * one "AT" prefix, basic commands may follow each other directly ("ATE0Q0V1"), extended commands (+X, $X) are
 * separated by ";" ("AT+CSQ;+CREG?"), a ";" inside a quoted string is data, names are case-insensitive.
 */
export type AtKind = "exec" | "read" | "test" | "write";

export interface AtCommand {
  /** Upper-cased name: "+CSQ", "$QCRMCALL", "E", "&W", "I", "S", "D". */
  name: string;
  kind: AtKind;
  /** Parameter text: after "=" for write; the digits of a basic command ("0" in "E0"); the register for S. */
  params: string;
  /** The command as it appeared in the line (for fault matching and logs). */
  text: string;
}

const EXT_NAME = /^[A-Za-z0-9_!%\-./:]+/;

/** Index just past the end of an extended command's parameters (the next ";" outside quotes, or the end). */
function paramsEnd(body: string, from: number): number | undefined {
  let quoted = false;
  for (let i = from; i < body.length; i++) {
    const c = body[i];
    if (c === '"') quoted = !quoted;
    else if (c === ";" && !quoted) return i;
  }
  return quoted ? undefined : body.length;
}

/**
 * The commands of a line, or undefined for a syntax error (→ "ERROR"). The line has no CR. An "AT" alone gives [].
 */
export function splitCommandLine(line: string): AtCommand[] | undefined {
  const trimmed = line.trim();
  if (!/^at/i.test(trimmed)) return undefined;
  const body = trimmed.slice(2);
  const out: AtCommand[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === " " || c === ";") { i++; continue; }
    const start = i;
    if (c === "+" || c === "$" || c === "*" || c === "^") {
      const m = EXT_NAME.exec(body.slice(i + 1));
      if (!m) return undefined;
      const name = (c + m[0]).toUpperCase();
      i += 1 + m[0].length;
      let kind: AtKind = "exec";
      let params = "";
      if (body.startsWith("=?", i)) { kind = "test"; i += 2; }
      else if (body[i] === "?") { kind = "read"; i += 1; }
      else if (body[i] === "=") {
        kind = "write";
        const end = paramsEnd(body, i + 1);
        if (end === undefined) return undefined;
        params = body.slice(i + 1, end).trim();
        i = end;
      }
      // After an extended command only ";" or the end of the line may follow.
      while (body[i] === " ") i++;
      if (i < body.length && body[i] !== ";") return undefined;
      out.push({ name, kind, params, text: body.slice(start, i) });
      continue;
    }
    if (c === "&") {
      const m = /^&([A-Za-z])(\d*)/.exec(body.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      out.push({ name: `&${m[1]!.toUpperCase()}`, kind: "exec", params: m[2]!, text: m[0] });
      continue;
    }
    const upper = c.toUpperCase();
    if (upper === "D") {
      // Dial: the rest of the line is the dial string.
      out.push({ name: "D", kind: "exec", params: body.slice(i + 1).trim(), text: body.slice(i) });
      break;
    }
    if (upper === "S") {
      const m = /^[sS](\d+)(\?|=(\d*))?/.exec(body.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      const kind: AtKind = m[2] === "?" ? "read" : m[2] ? "write" : "exec";
      out.push({ name: "S", kind, params: m[3] === undefined ? m[1]! : `${m[1]}=${m[3]}`, text: m[0] });
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z](\d*)/.exec(body.slice(i))!;
      i += m[0].length;
      let kind: AtKind = "exec";
      if (body[i] === "?") { kind = "read"; i++; }
      out.push({ name: upper, kind, params: m[1]!, text: body.slice(start, i) });
      continue;
    }
    return undefined;
  }
  return out;
}

/** Splits write parameters on commas outside quotes; tokens keep their quotes. Undefined on an unbalanced quote. */
export function splitParams(params: string): string[] | undefined {
  if (params.trim() === "") return [];
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of params) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) { out.push(cur.trim()); cur = ""; continue; }
    cur += ch;
  }
  if (quoted) return undefined;
  out.push(cur.trim());
  return out;
}

/** The content of a quoted token, or undefined when the token is not a quoted string (ec25.md §3.4.7). */
export function unquote(token: string | undefined): string | undefined {
  if (token === undefined || token.length < 2 || !token.startsWith('"') || !token.endsWith('"')) return undefined;
  return token.slice(1, -1);
}

/** A decimal integer token, or undefined (empty, quoted or not a number). */
export function intParam(token: string | undefined): number | undefined {
  if (token === undefined || !/^-?\d+$/.test(token)) return undefined;
  return Number(token);
}
