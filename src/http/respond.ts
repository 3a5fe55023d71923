/** Response helpers and the security headers every response carries. */

/**
 * CSP without 'unsafe-inline' for scripts or styles: htmx runs from /static with its indicator stylesheet disabled
 * (rules in app.css), no hx-on (which needs eval), and the views use classes, never style attributes.
 */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // Rotation-link tokens and filters live in URLs: never leak them to other sites. (Not no-referrer: under it a
  // plain form post sends `Origin: null`, and the login form must work without JavaScript.)
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), usb=(), serial=()",
};

export function securityHeaders(request: Request): Record<string, string> {
  return request.url.startsWith("https:")
    ? { ...SECURITY_HEADERS, "strict-transport-security": "max-age=31536000" }
    : SECURITY_HEADERS;
}

export function html(body: JSX.Element | string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body as string, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** True when the client is htmx (fragments, HX-* response headers) rather than a full page load. */
export function isHtmx(request: Request): boolean {
  return request.headers.get("hx-request") === "true";
}
