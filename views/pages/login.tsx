import { Layout } from "../layout.tsx";

/**
 * The login form. With JavaScript htmx posts it and the error comes back into #login-error; without, it is a plain
 * form post (login is checked for same origin only) answered by a redirect or this page with the message.
 */
export function LoginPage({ next, message }: { next?: string; message?: string }): JSX.Element {
  return (
    <Layout title="Log in">
      <form class="login card" hx-post="/login" hx-target="#login-error" hx-swap="innerHTML" method="post" action="/login">
        <h1>lteproxy</h1>
        <label>Username <input name="username" autocomplete="username" required maxlength="64" autofocus /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="128" /></label>
        <input type="hidden" name="next" value={next ?? "/"} />
        <div id="login-error" class="form-error" role="alert">{message ? <span safe>{message}</span> : ""}</div>
        <button type="submit" class="primary">Log in</button>
      </form>
    </Layout>
  );
}

export function LoginError({ message }: { message: string }): JSX.Element {
  return <span safe>{message}</span>;
}
