import type { Counters } from "../../src/http/queries/modem-rows.ts";

/** Online / degraded / offline / failed counters; each links to the dashboard filtered by that group. */
export function CountersBar({ c, node }: { c: Counters; node?: string | null }): JSX.Element {
  const link = (state: string) => `/?state=${state}${node ? `&node=${encodeURIComponent(node)}` : ""}`;
  return (
    <div id="counters" class="counters">
      <a class="counter" href={node ? `/?node=${encodeURIComponent(node)}` : "/"}><b safe>{String(c.total)}</b> modems</a>
      <a class="counter c-online" href={link("online")}><b safe>{String(c.online)}</b> online</a>
      <a class="counter c-degraded" href={link("degraded")}><b safe>{String(c.degraded)}</b> degraded</a>
      <a class="counter c-offline" href={link("offline")}><b safe>{String(c.offline)}</b> offline</a>
      <a class="counter c-failed" href={link("failed")}><b safe>{String(c.failed)}</b> failed</a>
    </div>
  );
}
