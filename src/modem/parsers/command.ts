/**
 * Splits an AT command line into its verbs and forms, e.g. `AT+CSUB;+CVERSION` → two exec verbs,
 * `AT+CEREG?` → `{verb:"+CEREG", form:"read"}`. Used by isUrc to know what the pending command expects.
 */

export type CommandForm = "exec" | "read" | "write" | "test";

export interface CommandVerb {
  /** Upper-cased verb with its sigil: "+CEREG", "$QCRMCALL", "&W", or a basic command letter ("D", "I", "E"). */
  verb: string;
  form: CommandForm;
}

/** Splits on `;` outside double quotes (chained commands, ec25.md §3.4 item 8). */
function splitChain(body: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inQuote = false;
  for (const ch of body) {
    if (ch === '"') inQuote = !inQuote;
    if (ch === ";" && !inQuote) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

function formOf(rest: string): CommandForm {
  if (rest.startsWith("=?")) return "test";
  if (rest.startsWith("?")) return "read";
  if (rest.startsWith("=")) return "write";
  return "exec";
}

/** Verbs of a command line (`AT` prefix optional, case-insensitive). Unparseable segments are skipped. */
export function commandVerbs(command: string): CommandVerb[] {
  if (typeof command !== "string") return [];
  let body = command.trim();
  if (/^at/i.test(body)) body = body.slice(2);
  const out: CommandVerb[] = [];
  for (const seg of splitChain(body)) {
    const ext = /^([+$%^][A-Za-z0-9_]+)/.exec(seg);
    if (ext) {
      out.push({ verb: ext[1].toUpperCase(), form: formOf(seg.slice(ext[1].length)) });
      continue;
    }
    const basic = /^(&?[A-Za-z])/.exec(seg);
    if (basic) out.push({ verb: basic[1].toUpperCase(), form: formOf(seg.slice(basic[1].length).replace(/^\d+/, "")) });
  }
  return out;
}
