/**
 * Static assets embedded in the executable: htmx 4 and its SSE extension come from the htmx.org package at build
 * time (never a CDN), the stylesheet from views/static.
 */
import htmx from "../../node_modules/htmx.org/dist/htmx.min.js" with { type: "text" };
import htmxSse from "../../node_modules/htmx.org/dist/ext/hx-sse.min.js" with { type: "text" };
import css from "./app.css" with { type: "text" };

export interface Asset {
  body: string;
  type: string;
}

export const ASSETS: Record<string, Asset> = {
  "htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8" },
  "hx-sse.min.js": { body: htmxSse, type: "text/javascript; charset=utf-8" },
  "app.css": { body: css, type: "text/css; charset=utf-8" },
};
