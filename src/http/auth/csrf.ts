/**
 * CSRF defence for cookie sessions: a state-changing request must come from our own origin (Origin header, or
 * Sec-Fetch-Site: same-origin when a browser omits Origin) AND carry htmx's `HX-Request: true`. A cross-site form
 * cannot set that header, and a cross-site fetch that sets it needs a CORS preflight we never grant to cookies.
 * Requests authenticated by an API key (Authorization header) carry no ambient credential and are exempt.
 * The login form is checked for origin only (`{ htmx: false }`): there is no session to ride on yet, login CSRF is
 * what the origin check stops, and a browser without JavaScript posts it as a plain form.
 */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

export interface CsrfOptions {
  /** Origins besides our own that may post (none by default). */
  extraOrigins?: readonly string[];
  /** Require `HX-Request: true` (default true). */
  htmx?: boolean;
}

/** Null when acceptable, else the reason (recorded in security_events). */
export function csrfProblem(request: Request, opts: CsrfOptions = {}): string | null {
  const extraOrigins = opts.extraOrigins ?? [];
  const url = new URL(request.url);
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (origin !== null && origin !== "null") {
    if (origin !== url.origin && !extraOrigins.includes(origin)) return `cross-origin request from ${origin.slice(0, 100)}`;
  } else if (site !== "same-origin") {
    // `Origin: null` is what a plain form post sends under a no-referrer policy, and what an opaque (sandboxed,
    // data:) document sends: then only the browser-set Sec-Fetch-Site tells them apart.
    if (origin === "null") return `opaque Origin (null) with Sec-Fetch-Site: ${(site ?? "none").slice(0, 40)}`;
    return site ? `Sec-Fetch-Site: ${site.slice(0, 40)}` : "no Origin or Sec-Fetch-Site header";
  }
  if (opts.htmx !== false && request.headers.get("hx-request") !== "true") return "missing HX-Request header";
  return null;
}
