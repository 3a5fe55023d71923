/**
 * Password checks with memory. argon2id costs tens of milliseconds of CPU by design; a client that
 * opens 1,000 connections (or sends 1,000 keep-alive requests) with the same credentials must pay
 * it once, not 1,000 times. The key is a SHA-256 of hash + password, so the clear password is not
 * kept; wrong passwords are remembered too, so a brute-force loop with one guess cannot burn CPU.
 * Uncached checks run at most `maxConcurrent` at a time, with a bounded queue.
 */

export interface PasswordVerifierOptions {
  /** Entries kept (oldest evicted first). */
  maxEntries?: number;
  /** The real check; injectable for tests. */
  verify?: (password: string, hash: string) => Promise<boolean>;
  /**
   * Real checks running at once. An argon2id verify with Bun's defaults takes 64 MiB of memory:
   * a burst of distinct wrong passwords must queue, not multiply that.
   */
  maxConcurrent?: number;
  /** Checks allowed to wait; beyond that a new (uncached) check fails at once, uncached. */
  maxQueue?: number;
}

export interface PasswordVerifier {
  verify(hash: string, password: string): Promise<boolean>;
  /** How many real (uncached) verifications ran; for tests and stats. */
  readonly computed: number;
  /** Checks refused because the queue was full. */
  readonly shed: number;
}

export function createPasswordVerifier(opts: PasswordVerifierOptions = {}): PasswordVerifier {
  const maxEntries = opts.maxEntries ?? 10_000;
  const verifyOnce = opts.verify ?? ((password, hash) => Bun.password.verify(password, hash));
  const maxConcurrent = opts.maxConcurrent ?? 2;
  const maxQueue = opts.maxQueue ?? 256;
  const done = new Map<string, boolean>();
  const inflight = new Map<string, Promise<boolean>>();
  const waiting: (() => void)[] = [];
  let running = 0;
  let computed = 0;
  let shed = 0;

  const key = (hash: string, password: string) =>
    new Bun.CryptoHasher("sha256").update(hash).update("\0").update(password).digest("base64");

  /** The real check under the concurrency limit; null when shed (queue full). */
  async function limited(password: string, hash: string): Promise<boolean | null> {
    if (running >= maxConcurrent) {
      if (waiting.length >= maxQueue) {
        shed++;
        return null;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    computed++;
    try {
      return await verifyOnce(password, hash);
    } catch {
      return false; // a malformed hash verifies nothing
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  return {
    get computed() {
      return computed;
    },
    get shed() {
      return shed;
    },
    verify(hash, password) {
      const k = key(hash, password);
      const hit = done.get(k);
      if (hit !== undefined) return Promise.resolve(hit);
      const pending = inflight.get(k);
      if (pending) return pending;
      const p = limited(password, hash).then((ok) => {
        inflight.delete(k);
        if (ok === null) return false;
        if (done.size >= maxEntries) done.delete(done.keys().next().value as string);
        done.set(k, ok);
        return ok;
      });
      inflight.set(k, p);
      return p;
    },
  };
}
