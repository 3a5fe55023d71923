import { Layout, type PageUser } from "../layout.tsx";
import type { UserInfo } from "../../src/db/queries/users.ts";
import type { ApiKeyInfo } from "../../src/db/queries/api-keys.ts";
import { ago, ts } from "../components/format.ts";
import { FieldError } from "../components/form.tsx";

const ROLES = ["viewer", "technician", "admin"];

/** Shown once after creating a user / resetting a password / creating a key. */
export function SecretOnce({ label, secret }: { label: string; secret: string }): JSX.Element {
  return (
    <div class="secret-once card">
      <p safe>{label}</p>
      <input id="secret-once" class="mono wide" readonly value={secret} aria-label={label} />
      <button type="button" class="copy" data-copy="#secret-once">Copy</button>
      <p class="muted">Shown once: it is stored only as a hash.</p>
    </div>
  );
}

export function UserRow({ u, self }: { u: UserInfo; self: boolean }): JSX.Element {
  const locked = u.locked_until && new Date(u.locked_until).getTime() > Date.now();
  return (
    <tr id={`user-${u.id}`}>
      <td safe>{u.username}</td>
      <td>
        <form hx-post={`/users/${u.id}`} hx-target={`#user-${u.id}`} hx-swap="outerHTML" hx-trigger="change">
          <select name="role" aria-label="Role">{ROLES.map((r) => <option value={r} selected={u.role === r} safe>{r}</option>)}</select>
        </form>
      </td>
      <td safe>{u.disabled ? "disabled" : locked ? `locked until ${ts(u.locked_until)}` : "active"}</td>
      <td class="num" safe>{String(u.failed_logins)}</td>
      <td safe>{ago(u.last_login_at)}</td>
      <td class="row-actions">
        <button hx-post={`/users/${u.id}/reset-password`} hx-target="#user-secret" hx-swap="innerHTML" hx-confirm="Reset this user's password? Their sessions end.">Reset password</button>
        {self ? "" : (
          <button hx-post={`/users/${u.id}`} hx-vals={JSON.stringify({ disabled: u.disabled ? "false" : "true" })} hx-target={`#user-${u.id}`} hx-swap="outerHTML">
            {u.disabled ? "Enable" : "Disable"}
          </button>
        )}
        {locked ? <button hx-post={`/users/${u.id}`} hx-vals='{"unlock":"true"}' hx-target={`#user-${u.id}`} hx-swap="outerHTML">Unlock</button> : ""}
        {self ? "" : <button class="danger" hx-post={`/users/${u.id}/delete`} hx-target={`#user-${u.id}`} hx-swap="delete" hx-confirm="Delete this user and their API keys?">Delete</button>}
      </td>
    </tr>
  );
}

export function NewUserForm({ errors }: { errors?: Record<string, string> }): JSX.Element {
  return (
    <form id="new-user" class="inline-form" hx-post="/users" hx-target="this" hx-swap="outerHTML">
      <input name="username" placeholder="username" maxlength="64" required aria-label="Username" />
      <select name="role" aria-label="Role">{ROLES.map((r) => <option value={r} safe>{r}</option>)}</select>
      <input name="password" type="password" placeholder="password (empty: generate)" maxlength="128" autocomplete="new-password" aria-label="Password" />
      <button type="submit" class="primary">Create user</button>
      <FieldError errors={errors} name="username" />
      <FieldError errors={errors} name="role" />
      <FieldError errors={errors} name="password" />
      <FieldError errors={errors} name="_" />
    </form>
  );
}

export function KeyRow({ k }: { k: ApiKeyInfo }): JSX.Element {
  return (
    <tr id={`key-${k.id}`} class={k.revoked_at ? "muted" : ""}>
      <td safe>{k.name}</td>
      <td safe>{k.username}</td>
      <td class="mono" safe>{`lpk_${k.prefix}_…`}</td>
      <td>{k.role ?? "owner's role"}</td>
      <td safe>{ts(k.created_at)}</td>
      <td safe>{ago(k.last_used_at)}</td>
      <td>{k.revoked_at ? <span safe>{`revoked ${ts(k.revoked_at)}`}</span> : <button class="danger" hx-post={`/keys/${k.id}/revoke`} hx-target={`#key-${k.id}`} hx-swap="outerHTML" hx-confirm="Revoke this API key?">Revoke</button>}</td>
    </tr>
  );
}

export function NewKeyForm({ users, errors }: { users: UserInfo[]; errors?: Record<string, string> }): JSX.Element {
  return (
    <form id="new-key" class="inline-form" hx-post="/keys" hx-target="this" hx-swap="outerHTML">
      <input name="name" placeholder="key name, e.g. grafana" maxlength="64" required aria-label="Key name" />
      <select name="userId" aria-label="Owner">{users.map((u) => <option value={String(u.id)} safe>{u.username}</option>)}</select>
      <select name="role" aria-label="Role"><option value="">owner's role</option>{ROLES.map((r) => <option value={r} safe>{r}</option>)}</select>
      <button type="submit" class="primary">Create API key</button>
      <FieldError errors={errors} name="name" />
      <FieldError errors={errors} name="role" />
      <FieldError errors={errors} name="_" />
    </form>
  );
}

export function UsersPage(p: { users: UserInfo[]; keys: ApiKeyInfo[]; selfId: number; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Users" user={p.user} nodeId={p.nodeId} banner={p.banner} active="users">
      <h1>Users</h1>
      <div id="user-secret"></div>
      <NewUserForm />
      <table class="grid dense" id="users">
        <thead><tr><th>User</th><th>Role</th><th>Status</th><th>Failed logins</th><th>Last login</th><th></th></tr></thead>
        <tbody id="users-body">{p.users.map((u) => <UserRow u={u} self={u.id === p.selfId} />)}</tbody>
      </table>
      <h2>API keys</h2>
      <NewKeyForm users={p.users} />
      <table class="grid dense" id="keys">
        <thead><tr><th>Name</th><th>Owner</th><th>Key</th><th>Role</th><th>Created</th><th>Last used</th><th></th></tr></thead>
        <tbody id="keys-body">{p.keys.map((k) => <KeyRow k={k} />)}</tbody>
      </table>
    </Layout>
  );
}
