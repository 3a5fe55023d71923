/**
 * Waiting for the +CUSD URC of a USSD request. Registered before AT+CUSD goes out so an answer that arrives
 * right behind the OK is not missed; the timeout starts when the caller begins to wait (after the OK).
 */
import { AppError } from "../lib/errors.ts";
import type { AtChannel } from "./at/types.ts";
import type { ParseResult } from "./parsers/result.ts";
import type { CusdInfo } from "./parsers/ussd.ts";

export interface UssdWait {
  /** The first +CUSD URC seen since registration, or USSD_TIMEOUT / USSD_BAD_ANSWER / AT_UNPLUGGED. */
  result(): Promise<CusdInfo>;
  cancel(): void;
}

export function registerUssd(channel: AtChannel, parse: (line: string) => ParseResult<CusdInfo>, timeoutMs: number): UssdWait {
  let got: ParseResult<CusdInfo> | undefined;
  let gone = false;
  let notify: (() => void) | undefined;
  const offUrc = channel.onUrc((line) => {
    if (got || !/^\+CUSD:/i.test(line)) return;
    got = parse(line);
    notify?.();
  });
  const offClose = channel.onClose(() => {
    gone = true;
    notify?.();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    offUrc();
    offClose();
    clearTimeout(timer);
    notify = undefined;
  };
  const settle = (): CusdInfo | AppError | undefined => {
    if (got) return got.ok ? got.value : new AppError("USSD_BAD_ANSWER", got.error);
    if (gone) return new AppError("AT_UNPLUGGED", "the modem port vanished while waiting for the USSD answer");
    return undefined;
  };
  return {
    cancel,
    result: () => new Promise<CusdInfo>((resolve, reject) => {
      const done = () => {
        const v = settle();
        if (v === undefined) return;
        cancel();
        if (v instanceof AppError) reject(v);
        else resolve(v);
      };
      notify = done;
      timer = setTimeout(() => {
        cancel();
        reject(new AppError("USSD_TIMEOUT", `no +CUSD answer within ${timeoutMs} ms`, { timeoutMs }));
      }, timeoutMs);
      done();
    }),
  };
}
