/**
 * Errors with stable SCREAMING_SNAKE codes. HTTP and CLI layers map codes to statuses and messages;
 * the cause stays in the log.
 */
export class AppError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
}

/** True when `e` is an AppError with the given code. */
export function hasCode(e: unknown, code: string): boolean {
  return e instanceof AppError && e.code === code;
}
