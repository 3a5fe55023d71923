/**
 * One error format for the API: `{ error: { code, message, fields? } }`. Handlers throw HttpError; the global
 * onError maps it, Elysia's own errors and AppError codes from the control plane to a status. Unknown errors are
 * logged with their cause and answered with a generic 500 that never echoes internals.
 */
import { AppError } from "../lib/errors.ts";

export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

export const badRequest = (message: string, code = "BAD_REQUEST") => new HttpError(400, code, message);
export const unauthorized = (message = "authentication required") => new HttpError(401, "UNAUTHENTICATED", message);
export const forbidden = (message = "not allowed for your role") => new HttpError(403, "FORBIDDEN", message);
export const notFound = (what = "resource") => new HttpError(404, "NOT_FOUND", `${what} not found`);
export const conflict = (message: string, code = "CONFLICT") => new HttpError(409, code, message);
export const invalid = (fields: Record<string, string>, message = "invalid input") => new HttpError(422, "VALIDATION_FAILED", message, fields);
export const notAvailable = (what: string) => new HttpError(503, "NOT_AVAILABLE", `${what} is not available on this node yet`);

/** Control-plane AppError codes → HTTP status. Anything else is a 500 (logged). */
const APP_CODE_STATUS: Record<string, number> = {
  MODEM_NOT_FOUND: 404,
  NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  MODEM_BUSY: 409,
  CONFLICT: 409,
  ROTATION_RUNNING: 409,
  AT_REJECTED: 422,
  AT_NOT_ALLOWED: 422,
  VALIDATION_FAILED: 422,
  INVALID_ARGUMENT: 422,
  RATE_LIMITED: 429,
  NOT_AVAILABLE: 503,
  DB_UNAVAILABLE: 503,
  MODEM_OFFLINE: 409,
  MODEM_TIMEOUT: 504,
  AT_TIMEOUT: 504,
  MODEM_NOT_PRESENT: 409,
  MODEM_BAD_STATE: 409,
  MODEM_BAD_ARGUMENT: 422,
  MODEM_BAD_ANSWER: 502,
  MODEM_FAILED: 502,
  ROTATION_SCHEDULE_INVALID: 422,
  ROTATION_CANCELLED: 409,
  ROTATION_NO_PUBLIC_IP: 502,
  ROTATION_TIMEOUT: 504,
  // fleet: the node that owns the modem carries the action out
  NODE_OFFLINE: 503,
  NODE_NO_REPLY: 504,
  WRONG_NODE: 409,
  CONSOLE_NO_REPLY: 504,
  // the console policy's refusals (src/modem/console-policy.ts), e.g. from a forwarded console command
  CONSOLE_NOT_ALLOWED: 422,
  CONSOLE_INVALID: 422,
  CONSOLE_CHAINING: 422,
  CONSOLE_INJECTION: 422,
  CONSOLE_DIAL: 422,
  ROTATION_NO_REPLY: 504,
};

/** Maps any thrown value to an HttpError, or null when it is an unexpected failure (→ 500). */
export function toHttpError(error: unknown): HttpError | null {
  if (error instanceof HttpError) return error;
  if (error instanceof AppError) {
    const status = APP_CODE_STATUS[error.code];
    if (status) return new HttpError(status, error.code, error.message);
  }
  return null;
}
