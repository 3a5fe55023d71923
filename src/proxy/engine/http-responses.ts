/**
 * Responses the proxy itself produces. All close the connection: after a refusal or an error
 * the state of the client's byte stream is not worth trusting.
 */

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export const PROXY_REALM = "lteproxy";

/** A complete `Connection: close` response with a one-line text body. */
export function errorResponse(status: number, message: string): Buffer {
  const body = message + "\n";
  const extra = status === 407 ? `Proxy-Authenticate: Basic realm="${PROXY_REALM}"\r\n` : "";
  return Buffer.from(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
      extra +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\nProxy-Connection: close\r\n\r\n" +
      body,
    "utf8",
  );
}

export const CONNECT_ESTABLISHED = Buffer.from("HTTP/1.1 200 Connection established\r\n\r\n", "latin1");
