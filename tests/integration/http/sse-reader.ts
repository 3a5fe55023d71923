/** Reads an SSE response body in tests: raw wire text and parsed messages, with a deadline. */
import { parseSse } from "../../../src/http/sse-frames.ts";

export class SseReader {
  text = "";
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private dec = new TextDecoder();
  /** A read still outstanding from an earlier poll: reused, so a chunk it brings is never dropped. */
  private inflight: ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]> | null = null;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** Wire text of complete messages (ending in a blank line). */
  get messages() {
    return parseSse(this.text.slice(0, this.text.lastIndexOf("\n\n") + 2));
  }

  /** Reads until `pred(text)` holds; throws after timeoutMs. */
  async until(pred: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: condition not met within ${timeoutMs} ms; got:\n${this.text.slice(-2000)}`);
      this.inflight ??= this.reader.read();
      const r = await Promise.race([this.inflight, Bun.sleep(Math.min(left, 100)).then(() => null)]);
      if (r === null) continue;
      this.inflight = null;
      if (r.done) throw new Error(`SSE stream ended; got:\n${this.text.slice(-2000)}`);
      this.text += this.dec.decode(r.value, { stream: true });
    }
    return this.text;
  }

  /** Waits for the n-th (1-based) message carrying data. */
  async message(n: number, timeoutMs = 5000) {
    await this.until(() => this.messages.filter((m) => m.data !== "").length >= n, timeoutMs);
    return this.messages.filter((m) => m.data !== "")[n - 1]!;
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}
