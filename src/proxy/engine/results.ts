/**
 * Every connection ends with one result code. It goes into the connection log, the refusal
 * counters, and picks the HTTP status or SOCKS5 reply the client sees.
 */

export type ResultCode =
  | "ok"
  | "auth_required"
  | "auth_failed"
  | "modem_not_online"
  | "over_limit"
  | "bad_request"
  | "header_too_large"
  | "handshake_timeout"
  | "unsupported"
  | "bad_target"
  | "target_denied"
  | "dns_failed"
  | "dns_timeout"
  | "source_unavailable"
  | "no_route"
  | "host_unreachable"
  | "connect_refused"
  | "connect_timeout"
  | "connect_failed"
  | "upstream_error"
  | "idle_timeout"
  | "client_error"
  | "shutdown";

/** The HTTP status a refusal maps to (3proxy answers 502 for a missing -e address, 3proxy.md §3). */
export const HTTP_STATUS: Record<ResultCode, number> = {
  ok: 200,
  auth_required: 407,
  auth_failed: 407,
  modem_not_online: 503,
  over_limit: 503,
  bad_request: 400,
  header_too_large: 431,
  handshake_timeout: 408,
  unsupported: 501,
  bad_target: 400,
  target_denied: 403,
  dns_failed: 502,
  dns_timeout: 504,
  source_unavailable: 502,
  no_route: 502,
  host_unreachable: 502,
  connect_refused: 502,
  connect_timeout: 504,
  connect_failed: 502,
  upstream_error: 502,
  idle_timeout: 408,
  client_error: 400,
  shutdown: 503,
};

/** RFC 1928 §6 reply codes. */
export const SOCKS_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export function socksReplyFor(code: ResultCode): number {
  switch (code) {
    case "ok":
      return SOCKS_REPLY.succeeded;
    case "modem_not_online":
    case "source_unavailable":
    case "no_route":
      return SOCKS_REPLY.networkUnreachable;
    case "host_unreachable":
    case "dns_failed":
    case "dns_timeout":
    case "connect_timeout":
      return SOCKS_REPLY.hostUnreachable;
    case "connect_refused":
      return SOCKS_REPLY.connectionRefused;
    case "unsupported":
      return SOCKS_REPLY.commandNotSupported;
    case "bad_target":
      return SOCKS_REPLY.addressTypeNotSupported;
    case "target_denied":
      return SOCKS_REPLY.notAllowed;
    default:
      return SOCKS_REPLY.generalFailure;
  }
}

/** Maps a connect() errno to a result. EADDRNOTAVAIL = the modem's address is gone. */
export function resultForErrno(code: string | undefined): ResultCode {
  switch (code) {
    case "EADDRNOTAVAIL":
      return "source_unavailable";
    case "ENETUNREACH":
    case "ENETDOWN":
      return "no_route";
    case "EHOSTUNREACH":
    case "EHOSTDOWN":
      return "host_unreachable";
    case "ECONNREFUSED":
      return "connect_refused";
    case "ETIMEDOUT":
      return "connect_timeout";
    default:
      return "connect_failed";
  }
}
