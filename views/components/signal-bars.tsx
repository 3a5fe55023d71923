import { signalBars } from "./format.ts";

/** Four bars (CSS classes only: the CSP forbids inline styles) with RSRP/SINR next to them. */
export function SignalBars({ rsrp, sinr }: { rsrp: number | null; sinr: number | null }): JSX.Element {
  const level = signalBars(rsrp);
  const label = rsrp === null ? "no signal" : `RSRP ${rsrp} dBm${sinr === null ? "" : `, SINR ${sinr} dB`}`;
  return (
    <span class="signal">
      <span class={`bars bars-${level}`} role="img" aria-label={label}>
        <i></i><i></i><i></i><i></i>
      </span>
      <span class="num" safe>{rsrp === null ? "–" : `${rsrp}`}</span>
      <span class="num muted" safe>{sinr === null ? "" : `/${Math.round(sinr)}`}</span>
    </span>
  );
}
