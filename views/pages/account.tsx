import { Layout, type PageUser } from "../layout.tsx";
import { FieldError } from "../components/form.tsx";

export function PasswordForm({ errors, done }: { errors?: Record<string, string>; done?: boolean }): JSX.Element {
  return (
    <form id="password-form" class="card narrow" hx-post="/account/password" hx-target="this" hx-swap="outerHTML">
      <h2>Change password</h2>
      <label>Current password <input type="password" name="current" autocomplete="current-password" required maxlength="128" /></label>
      <FieldError errors={errors} name="current" />
      <label>New password (10+ characters) <input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="128" /></label>
      <FieldError errors={errors} name="password" />
      <label>Repeat <input type="password" name="repeat" autocomplete="new-password" required maxlength="128" /></label>
      <FieldError errors={errors} name="repeat" />
      <FieldError errors={errors} name="_" />
      {done ? <p class="ok">Password changed. Other sessions were logged out.</p> : ""}
      <button type="submit" class="primary">Change password</button>
    </form>
  );
}

export function AccountPage({ user, mustChange, nodeId }: { user: PageUser; mustChange: boolean; nodeId: string }): JSX.Element {
  return (
    <Layout title="Account" user={user} nodeId={nodeId}>
      <h1 safe>{user.username}</h1>
      <p class="muted" safe>{`Role: ${user.role}`}</p>
      {mustChange ? <p class="banner">This account uses a one-time password: choose a new one now.</p> : ""}
      <PasswordForm />
    </Layout>
  );
}
