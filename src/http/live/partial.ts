/**
 * htmx 4 partial wrappers for SSE messages. A message holds only <hx-partial> elements, each naming its own target
 * and swap, so one message can replace a row and the counters at once; the SSE element itself never swaps.
 * Targets are our own element ids, optionally one child by position (a dashboard cell), never user data; the
 * content is escaped by the views that made it.
 */
export function partial(target: string, swap: "outerHTML" | "afterbegin" | "beforeend" | "innerHTML", html: string): string {
  if (!/^#[A-Za-z][A-Za-z0-9_-]*(>:nth-child\([1-9][0-9]?\))?$/.test(target)) throw new Error(`bad partial target ${target}`);
  return `<hx-partial hx-target="${target}" hx-swap="${swap}">${html}</hx-partial>`;
}
