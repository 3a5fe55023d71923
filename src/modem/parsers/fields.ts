/**
 * Low-level helpers shared by the AT parsers: line normalisation, prefix stripping, and a comma splitter
 * that respects double quotes and parentheses (`+COPS: (1,"A","B","50501",2),(0-4)`).
 */

/** Forum software turns ASCII quotes into curly ones [T 07]; the modem itself only emits `"`. */
const CURLY_QUOTES = /[\u201c\u201d\u201e\u201f\u2033]/g;

/** Trims CR/LF/whitespace and replaces curly double quotes with ASCII ones. */
export function normaliseLine(line: string): string {
  return line.replace(CURLY_QUOTES, '"').trim();
}

/** Normalises each line and drops blank ones and non-strings (parsers accept untrusted arrays). */
export function cleanLines(lines: readonly unknown[]): string[] {
  if (!Array.isArray(lines)) return [];
  const out: string[] = [];
  for (const l of lines) {
    if (typeof l !== "string") continue;
    const n = normaliseLine(l);
    if (n !== "") out.push(n);
  }
  return out;
}

/**
 * Returns the text after `<prefix>:` (case-insensitive, optional spaces after the colon), or null when the
 * line does not start with that prefix. `prefix` includes its sigil: "+CSQ", "$QCRMCALL".
 */
export function afterPrefix(line: string, prefix: string): string | null {
  const n = normaliseLine(line);
  if (n.length < prefix.length + 1) return null;
  if (n.slice(0, prefix.length).toUpperCase() !== prefix.toUpperCase()) return null;
  if (n[prefix.length] !== ":") return null;
  return n.slice(prefix.length + 1).trim();
}

/** First line that carries `prefix`, with its payload. */
export function findPrefixed(lines: readonly string[], prefix: string): string | null {
  for (const l of lines) {
    const p = afterPrefix(l, prefix);
    if (p !== null) return p;
  }
  return null;
}

/** Every line that carries `prefix`, payloads in order. */
export function allPrefixed(lines: readonly string[], prefix: string): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const p = afterPrefix(l, prefix);
    if (p !== null) out.push(p);
  }
  return out;
}

/**
 * Splits a payload on top-level commas. Quoted strings and parenthesised groups stay whole; tokens are
 * trimmed but keep their quotes (use `unquote`). An unterminated quote runs to the end of the line.
 */
export function splitFields(payload: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inQuote = false;
  let depth = 0;
  for (const ch of normaliseLine(payload)) {
    if (ch === '"') inQuote = !inQuote;
    else if (!inQuote && ch === "(") depth++;
    else if (!inQuote && ch === ")" && depth > 0) depth--;
    if (ch === "," && !inQuote && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else {
      cur += ch;
    }
  }
  out.push(cur.trim());
  return out;
}

export function isQuoted(tok: string | undefined): boolean {
  return tok !== undefined && tok.length >= 2 && tok.startsWith('"') && tok.endsWith('"');
}

/** Removes one pair of surrounding double quotes (and a lone leading/trailing one from truncated lines). */
export function unquote(tok: string | undefined): string {
  if (tok === undefined) return "";
  let t = tok.trim();
  if (t.startsWith('"')) t = t.slice(1);
  if (t.endsWith('"')) t = t.slice(0, -1);
  return t;
}

/** Unquoted text, or null for missing, empty and `-` placeholder fields. */
export function optText(tok: string | undefined): string | null {
  if (tok === undefined) return null;
  const t = unquote(tok).trim();
  return t === "" || t === "-" ? null : t;
}

/** Decimal integer (optionally signed, optionally quoted), or null for `-`, empty or malformed fields. */
export function toInt(tok: string | undefined): number | null {
  if (tok === undefined) return null;
  const t = unquote(tok).trim();
  if (!/^[+-]?\d{1,15}$/.test(t)) return null;
  return Number.parseInt(t, 10);
}

/** Decimal number with optional fraction, or null. */
export function toNumber(tok: string | undefined): number | null {
  if (tok === undefined) return null;
  const t = unquote(tok).trim();
  if (!/^[+-]?\d{1,15}(\.\d{1,15})?$/.test(t)) return null;
  return Number.parseFloat(t);
}

/** Hexadecimal integer (quoted or not, optional 0x), or null. Up to 13 hex digits stays exact in a double. */
export function hexToInt(tok: string | undefined): number | null {
  if (tok === undefined) return null;
  const t = unquote(tok).trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{1,13}$/.test(t)) return null;
  return Number.parseInt(t, 16);
}

/** Upper-cased hex text of a field (`"5355e8d"` → `"5355E8D"`), or null when it is not hex. */
export function hexText(tok: string | undefined): string | null {
  if (tok === undefined) return null;
  const t = unquote(tok).trim().replace(/^0x/i, "");
  return /^[0-9a-fA-F]{1,16}$/.test(t) ? t.toUpperCase() : null;
}
