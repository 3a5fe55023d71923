/**
 * pino JSON to stdout (journald keeps it). One root logger; subsystems take a child.
 * Secrets and subscriber identities are redacted wherever they appear under the usual keys.
 */
import pino from "pino";

export const REDACT_PATHS = [
  "password", "*.password", "pass", "*.pass", "token", "*.token", "secret", "*.secret",
  "apiKey", "*.apiKey", "authorization", "*.authorization", "headers.authorization", "headers.cookie",
  "imsi", "*.imsi", "iccid", "*.iccid", "phone", "*.phone", "msisdn", "*.msisdn",
];

function level(): string {
  return process.env.LTEPROXY_LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info");
}

export const logger = pino({
  level: level(),
  base: { pid: process.pid },
  redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export type Logger = pino.Logger;

/** A child logger for one subsystem ("db", "router", "modem") with extra bound fields. */
export function childLogger(subsystem: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ sub: subsystem, ...bindings });
}

/** Changes the root level at run time (config or CLI flag). */
export function setLogLevel(lvl: string): void {
  logger.level = lvl;
}
