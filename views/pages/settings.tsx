import { Layout, type PageUser } from "../layout.tsx";
import { AUTH_MODES, type Settings } from "../../src/db/queries/settings.ts";
import { FieldError } from "../components/form.tsx";

type Values = Record<string, unknown>;

function val(values: Values, key: string): string {
  const x = values[key];
  return Array.isArray(x) ? x.join("\n") : x === undefined || x === null ? "" : String(x);
}

function NumberField({ k, label, values, errors, min, max, disabled }: { k: keyof Settings; label: string; values: Values; errors?: Record<string, string>; min: number; max: number; disabled: boolean }): JSX.Element {
  return (
    <label class={errors?.[k] ? "has-error" : ""}>
      <span safe>{label}</span>
      <input name={k} type="number" min={String(min)} max={String(max)} value={val(values, k)} disabled={disabled} />
      <FieldError errors={errors} name={k} />
    </label>
  );
}

/** The settings form; re-rendered with the submitted values and field errors after a 422. */
export function SettingsForm({ values, errors, canEdit, saved }: { values: Values; errors?: Record<string, string>; canEdit: boolean; saved?: boolean }): JSX.Element {
  const d = !canEdit;
  return (
    <form id="settings-form" class="settings card" hx-post="/settings" hx-target="this" hx-swap="outerHTML">
      <fieldset>
        <legend>Proxy defaults</legend>
        <label class={errors?.["proxy.auth_mode"] ? "has-error" : ""}>
          <span>Authentication</span>
          <select name="proxy.auth_mode" disabled={d}>
            {AUTH_MODES.map((m) => <option value={m} selected={val(values, "proxy.auth_mode") === m}>{m}</option>)}
          </select>
          <FieldError errors={errors} name="proxy.auth_mode" />
        </label>
        <label class={errors?.["proxy.whitelist"] ? "has-error" : ""}>
          <span>Client whitelist (one address or CIDR per line)</span>
          <textarea name="proxy.whitelist" rows="4" disabled={d} safe>{val(values, "proxy.whitelist")}</textarea>
          <FieldError errors={errors} name="proxy.whitelist" />
        </label>
      </fieldset>
      <fieldset>
        <legend>Intervals</legend>
        <NumberField k="health.interval_s" label="Health check interval (s, 30–60)" values={values} errors={errors} min={30} max={60} disabled={d} />
        <NumberField k="rotation.interval_s" label="Scheduled rotation interval (s, 0 = off, ≥ 60)" values={values} errors={errors} min={0} max={604800} disabled={d} />
        <NumberField k="rotation.unique_history" label="Unique-IP history (last N IPs)" values={values} errors={errors} min={1} max={50} disabled={d} />
      </fieldset>
      <fieldset>
        <legend>Retention</legend>
        <NumberField k="retention.samples_days" label="Health samples (days)" values={values} errors={errors} min={1} max={365} disabled={d} />
        <NumberField k="retention.logs_days" label="Events, audit and connection logs (days)" values={values} errors={errors} min={1} max={3650} disabled={d} />
      </fieldset>
      <fieldset>
        <legend>Security</legend>
        <NumberField k="security.ip_block_threshold" label="Offences (15 min) before an IP is blocked" values={values} errors={errors} min={3} max={10000} disabled={d} />
        <NumberField k="security.ip_block_minutes" label="IP block duration (min)" values={values} errors={errors} min={1} max={10080} disabled={d} />
        <NumberField k="security.login_lock_minutes" label="Account lock after failed logins (min)" values={values} errors={errors} min={1} max={1440} disabled={d} />
      </fieldset>
      <FieldError errors={errors} name="_" />
      {errors ? <p class="form-error" role="alert">Some values are invalid: nothing was saved.</p> : ""}
      {saved ? <p class="ok">Saved.</p> : ""}
      {canEdit ? <button type="submit" class="primary">Save settings</button> : <p class="muted">Only admins can change settings.</p>}
    </form>
  );
}

export function SettingsPage(p: { values: Settings; canEdit: boolean; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Settings" user={p.user} nodeId={p.nodeId} banner={p.banner} active="settings">
      <h1>Settings</h1>
      <SettingsForm values={p.values as unknown as Values} canEdit={p.canEdit} />
    </Layout>
  );
}
