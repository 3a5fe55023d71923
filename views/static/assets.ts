/**
 * Static assets embedded in the executable: htmx 4 and its SSE extension come from the htmx.org package at build
 * time (never a CDN), the stylesheet and the small helper script from views/static.
 */
import htmx from "../../node_modules/htmx.org/dist/htmx.min.js" with { type: "text" };
import htmxSse from "../../node_modules/htmx.org/dist/ext/hx-sse.min.js" with { type: "text" };
import css from "./app.css" with { type: "text" };
import { APP_JS } from "./app-js.ts";

export interface Asset {
  body: string;
  type: string;
  /** Strong validator for conditional requests. */
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${Bun.hash(body).toString(36)}"` };
}

export const ASSETS: Record<string, Asset> = {
  "htmx.min.js": asset(htmx, "text/javascript; charset=utf-8"),
  "hx-sse.min.js": asset(htmxSse, "text/javascript; charset=utf-8"),
  "app.css": asset(css, "text/css; charset=utf-8"),
  "app.js": asset(APP_JS, "text/javascript; charset=utf-8"),
};
