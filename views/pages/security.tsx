import { Layout, type PageUser } from "../layout.tsx";
import type { IpBlockRow, SecurityEventRow } from "../../src/db/queries/security.ts";
import { ts } from "../components/format.ts";
import { FieldError } from "../components/form.tsx";

export function BlockRow({ b, now }: { b: IpBlockRow; now: number }): JSX.Element {
  const active = new Date(b.blocked_until).getTime() > now;
  return (
    <tr id={`block-${b.ip.replace(/[^0-9a-fA-F]/g, "-")}`}>
      <td class="mono" safe>{b.ip}</td>
      <td safe>{b.reason}</td>
      <td class="mono" safe>{ts(b.created_at)}</td>
      <td class="mono" safe>{ts(b.blocked_until)}</td>
      <td safe>{active ? "blocked" : b.lifted_by ? `lifted by ${b.lifted_by}` : "expired"}</td>
      <td>{active ? <button hx-post={`/security/blocks/${encodeURIComponent(b.ip)}/lift`} hx-target="closest tr" hx-swap="outerHTML" hx-confirm="Lift this block?">Lift</button> : ""}</td>
    </tr>
  );
}

export function BlockForm({ errors, done }: { errors?: Record<string, string>; done?: string }): JSX.Element {
  return (
    <form id="block-form" class="inline-form" hx-post="/security/blocks" hx-target="this" hx-swap="outerHTML">
      <input name="ip" placeholder="address" maxlength="45" required aria-label="Address" class="mono" />
      <input name="minutes" type="number" min="1" max="525600" value="60" aria-label="Minutes" />
      <input name="reason" placeholder="reason" maxlength="200" aria-label="Reason" />
      <button type="submit">Block</button>
      <FieldError errors={errors} name="ip" />
      <FieldError errors={errors} name="minutes" />
      <FieldError errors={errors} name="reason" />
      {done ? <span class="ok" safe>{done}</span> : ""}
    </form>
  );
}

export function SecurityPage(p: { blocks: IpBlockRow[]; events: SecurityEventRow[]; now: number; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Security" user={p.user} nodeId={p.nodeId} banner={p.banner} active="security">
      <h1>Security</h1>
      <h2>IP blocks</h2>
      <BlockForm />
      <table class="grid dense" id="blocks">
        <thead><tr><th>Address</th><th>Reason</th><th>Since</th><th>Until</th><th>State</th><th></th></tr></thead>
        <tbody>{p.blocks.length === 0 ? <tr><td colspan="6" class="muted">No blocks.</td></tr> : p.blocks.map((b) => <BlockRow b={b} now={p.now} />)}</tbody>
      </table>
      <h2>Security events</h2>
      <table class="grid dense" id="security-events">
        <thead><tr><th>Time</th><th>Kind</th><th>User</th><th>Address</th><th>Details</th></tr></thead>
        <tbody>
          {p.events.map((e) => (
            <tr class={`sec-${e.kind}`}>
              <td class="mono" safe>{ts(e.ts)}</td>
              <td class="mono" safe>{e.kind}</td>
              <td safe>{e.username ?? "–"}</td>
              <td class="mono" safe>{e.ip ?? "–"}</td>
              <td class="mono small" safe>{JSON.stringify(e.details).slice(0, 300)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
