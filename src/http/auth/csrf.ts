/**
 * CSRF defence for cookie sessions: a state-changing request must come from our own origin (Origin header, or
 * Sec-Fetch-Site: same-origin when a browser omits Origin) AND carry htmx's `HX-Request: true`. A cross-site form
 * cannot set that header, and a cross-site fetch that sets it needs a CORS preflight we never grant to cookies.
 * Requests authenticated by an API key (Authorization header) carry no ambient credential and are exempt.
 */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Null when acceptable, else the reason (recorded in security_events). */
export function csrfProblem(request: Request, extraOrigins: readonly string[] = []): string | null {
  const url = new URL(request.url);
  const origin = request.headers.get("origin");
  if (origin !== null) {
    if (origin !== url.origin && !extraOrigins.includes(origin)) return `cross-origin request from ${origin.slice(0, 100)}`;
  } else {
    const site = request.headers.get("sec-fetch-site");
    if (site !== "same-origin") return site ? `Sec-Fetch-Site: ${site.slice(0, 40)}` : "no Origin or Sec-Fetch-Site header";
  }
  if (request.headers.get("hx-request") !== "true") return "missing HX-Request header";
  return null;
}
