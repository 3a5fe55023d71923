import type { SmsRow } from "../../src/http/queries/misc.ts";
import { ts } from "../components/format.ts";
import { FieldError } from "../components/form.tsx";

const ACTIONS: Array<{ action: string; label: string; confirm: string; cls?: string }> = [
  { action: "rotate", label: "Rotate IP", confirm: "Rotate the public IP of this modem? Connections on its port are cut.", cls: "primary" },
  { action: "reconnect", label: "Reconnect", confirm: "Restart the data call of this modem?" },
  { action: "airplane", label: "Airplane toggle", confirm: "Toggle airplane mode (CFUN=4, hold, CFUN=1)?" },
  { action: "reboot", label: "Reboot", confirm: "Reboot this modem (AT+CFUN=1,1)? It disappears for ~30 s.", cls: "danger" },
];

/** Action buttons with confirmation; each answer prepends a live progress line to #jobs. */
export function ActionButtons({ id, proxyEnabled }: { id: number; proxyEnabled: boolean }): JSX.Element {
  const toggle = proxyEnabled
    ? { action: "disable-proxy", label: "Disable proxy", confirm: "Disable the proxy port of this modem?" }
    : { action: "enable-proxy", label: "Enable proxy", confirm: "Enable the proxy port of this modem?" };
  return (
    <div class="actions" id="actions">
      {[...ACTIONS, toggle].map((a) => (
        <button
          type="button"
          class={`action ${"cls" in a ? (a.cls ?? "") : ""}`}
          data-action={a.action}
          hx-post={`/modems/${id}/actions/${a.action}`}
          hx-confirm={a.confirm}
          hx-target="#jobs"
          hx-swap="afterbegin"
          hx-disable="this"
          safe
        >
          {a.label}
        </button>
      ))}
    </div>
  );
}

/** The secure rotation link: the URL is shown once right after regeneration (only its hash is stored). */
export function RotationLink({ id, exists, url }: { id: number; exists: boolean; url?: string }): JSX.Element {
  return (
    <div id="rotation-link" class="rotation-link">
      {url ? (
        <p>
          <input id="rotation-url" class="mono wide" readonly value={url} aria-label="Rotation link" />
          <button type="button" class="copy" data-copy="#rotation-url">Copy</button>
          <br /><span class="muted">Shown once. Anyone with this link can rotate this port's IP.</span>
        </p>
      ) : (
        <p class="muted">{exists ? "A rotation link exists (hidden: only its hash is stored)." : "No rotation link."}</p>
      )}
      <button type="button" hx-post={`/modems/${id}/rotation-link`} hx-target="#rotation-link" hx-swap="outerHTML"
        hx-confirm={exists ? "Regenerate? The current link stops working." : "Create a rotation link?"}>
        {exists ? "Regenerate link" : "Create link"}
      </button>
      {exists ? (
        <button type="button" hx-post={`/modems/${id}/rotation-link/revoke`} hx-target="#rotation-link" hx-swap="outerHTML" hx-confirm="Revoke the rotation link?">
          Revoke
        </button>
      ) : ""}
    </div>
  );
}

export interface AtEntryProps {
  command: string;
  ok: boolean;
  lines: string[];
  final: string;
}

/** One console exchange, appended to #at-output. */
export function AtEntry({ e }: { e: AtEntryProps }): JSX.Element {
  return (
    <div class={`at-entry ${e.ok ? "ok" : "bad"}`}>
      <div class="mono cmd" safe>{`> ${e.command}`}</div>
      {e.lines.length ? <pre safe>{e.lines.join("\n")}</pre> : ""}
      <div class="mono final" safe>{e.final}</div>
    </div>
  );
}

export function AtConsole({ id }: { id: number }): JSX.Element {
  return (
    <section class="card" id="at-console">
      <h2>AT console</h2>
      <div id="at-output" class="at-output" aria-live="polite"></div>
      <form hx-post={`/modems/${id}/at`} hx-target="#at-output" hx-swap="beforeend" hx-disable="find button, find input" hx-sync="this:drop" autocomplete="off">
        <input name="command" class="mono wide" placeholder="ATI" maxlength="256" required aria-label="AT command" />
        <button type="submit">Send</button>
        <span class="muted">One command; no CR/LF or ';' chaining. Every command is audited.</span>
      </form>
    </section>
  );
}

export function SmsList({ sms }: { sms: SmsRow[] }): JSX.Element {
  return (
    <table class="grid small" id="sms-list">
      <thead><tr><th>Time</th><th>Dir</th><th>Peer</th><th>Text</th><th>Status</th></tr></thead>
      <tbody>
        {sms.length === 0 ? <tr><td colspan="5" class="muted">No messages.</td></tr> : sms.map((s) => (
          <tr>
            <td class="mono" safe>{ts(s.created_at)}</td>
            <td>{s.direction === "in" ? "in" : "out"}</td>
            <td class="mono" safe>{s.peer}</td>
            <td class="sms-body" safe>{s.body}</td>
            <td safe>{s.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A placeholder the modem channel replaces when an SMS arrives or is sent: the replacement loads the technician's
 * own list (GET /modems/:id/sms, role-checked), so the shared SSE channel never carries message text to viewers.
 */
export function SmsPoke({ id, load }: { id: number; load?: boolean }): JSX.Element {
  return load
    ? <span id="sms-poke" hidden hx-get={`/modems/${id}/sms`} hx-trigger="load" hx-target="#sms-list" hx-swap="outerHTML"></span>
    : <span id="sms-poke" hidden></span>;
}

export function SmsForm({ id, errors, result }: { id: number; errors?: Record<string, string>; result?: string }): JSX.Element {
  return (
    <form id="sms-form" hx-post={`/modems/${id}/sms`} hx-target="this" hx-swap="outerHTML" hx-disable="find button">
      <input name="to" placeholder="+491701234567" maxlength="20" required aria-label="Recipient" />
      <FieldError errors={errors} name="to" />
      <textarea name="text" maxlength="480" rows="2" required aria-label="Text"></textarea>
      <FieldError errors={errors} name="text" />
      <FieldError errors={errors} name="_" />
      <button type="submit">Send SMS</button>
      {result ? <span class="ok" safe>{result}</span> : ""}
    </form>
  );
}

export function UssdForm({ id, errors, response }: { id: number; errors?: Record<string, string>; response?: string }): JSX.Element {
  return (
    <form id="ussd-form" hx-post={`/modems/${id}/ussd`} hx-target="this" hx-swap="outerHTML" hx-disable="find button">
      <input name="code" placeholder="*100#" maxlength="32" required aria-label="USSD code" class="mono" />
      <button type="submit">Send USSD</button>
      <FieldError errors={errors} name="code" />
      <FieldError errors={errors} name="_" />
      {response !== undefined ? <pre class="ussd-response" safe>{response}</pre> : ""}
    </form>
  );
}
