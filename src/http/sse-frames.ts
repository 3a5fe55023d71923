/** Server-sent event framing (WHATWG "event stream" format). */

export interface SseMessage {
  id?: string | number;
  event?: string;
  /** May contain newlines: each line becomes its own `data:` field. */
  data?: string;
  retry?: number;
  comment?: string;
}

/** One message as wire text, ending with the blank line that dispatches it. */
export function formatSse(msg: SseMessage): string {
  let out = "";
  if (msg.comment !== undefined) out += `: ${msg.comment.replace(/[\r\n]+/g, " ")}\n`;
  if (msg.event !== undefined) out += `event: ${msg.event.replace(/[\r\n]+/g, "")}\n`;
  if (msg.data !== undefined) for (const line of msg.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  // id after data: a client that drops mid-message never records an id whose data it did not get
  if (msg.id !== undefined) out += `id: ${String(msg.id).replace(/[\r\n\0]+/g, "")}\n`;
  if (msg.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(msg.retry))}\n`;
  return out + "\n";
}

/** Parses wire text into messages (tests, the bench client). Mirrors the browser's parser. */
export function parseSse(text: string): Array<{ id?: string; event?: string; data: string }> {
  const out: Array<{ id?: string; event?: string; data: string }> = [];
  let cur: { id?: string; event?: string; data: string[] } = { data: [] };
  let has = false;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (has) out.push({ ...(cur.id !== undefined ? { id: cur.id } : {}), ...(cur.event !== undefined ? { event: cur.event } : {}), data: cur.data.join("\n") });
      cur = { data: [] };
      has = false;
      continue;
    }
    if (line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") cur.data.push(value), (has = true);
    else if (field === "event") cur.event = value, (has = true);
    else if (field === "id") cur.id = value, (has = true);
  }
  return out;
}
