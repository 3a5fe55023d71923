import { stateGroup } from "../../src/http/queries/modem-rows.ts";

/** State as colour and word: the group decides the colour, the word is the exact state. */
export function StateBadge({ state, reason }: { state: string; reason?: string | null }): JSX.Element {
  return (
    <span class={`state state-${stateGroup(state)}`} title={reason ?? undefined} safe>
      {state}
    </span>
  );
}
