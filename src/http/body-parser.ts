/**
 * Request bodies are parsed here, never by a parser that throws: a malformed JSON or form body becomes the BAD_BODY
 * marker, so the guard (auth, CSRF, role) always runs first and the handler's schema answers 400. Bodies above
 * MAX_BODY_BYTES are refused before they are read.
 */
import { HttpError } from "./errors.ts";

export const BAD_BODY = Symbol.for("lteproxy.bad-body");
export const MAX_BODY_BYTES = 256 * 1024;

async function readLimited(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, "BODY_TOO_LARGE", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new HttpError(413, "BODY_TOO_LARGE", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  return text;
}

/** Form fields; a repeated name becomes an array (checkbox groups). */
function formToObject(params: URLSearchParams | FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of params.entries()) {
    const value = typeof val === "string" ? val : "";
    const prev = out[k];
    out[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Elysia onParse hook: returns the parsed body or BAD_BODY; never throws except for oversize bodies. */
export async function parseBody(request: Request, contentType: string): Promise<unknown> {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  const text = await readLimited(request);
  if (text === "") return {};
  try {
    if (type === "application/json" || type.endsWith("+json")) return JSON.parse(text);
    if (type === "application/x-www-form-urlencoded") return formToObject(new URLSearchParams(text));
    if (type === "multipart/form-data") {
      const fd = await new Response(text, { headers: { "content-type": contentType } }).formData();
      return formToObject(fd);
    }
  } catch {
    return BAD_BODY;
  }
  return BAD_BODY;
}
