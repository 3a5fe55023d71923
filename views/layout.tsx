import type { Children } from "@kitajs/html";
import type { Role } from "../src/http/context.ts";

export interface PageUser {
  username: string;
  role: Role;
}

export interface LayoutProps {
  title: string;
  children?: Children;
  /** Shown above the page, e.g. "database unreachable: read-only". */
  banner?: string;
  nodeId?: string;
  user?: PageUser | null;
  /** Highlights the current nav entry. */
  active?: string;
  /**
   * Live pages (dashboard, modem, events) are meant to be watched: they refresh the session every few minutes so
   * a wall display does not fall back to the login page. Other pages time out after auth.session_minutes.
   */
  keepalive?: boolean;
}

const NAV: Array<{ href: string; label: string; key: string; role: Role }> = [
  { href: "/", label: "Modems", key: "dashboard", role: "viewer" },
  { href: "/rotations", label: "Rotations", key: "rotations", role: "viewer" },
  { href: "/alerts", label: "Alerts", key: "alerts", role: "viewer" },
  { href: "/events", label: "Events", key: "events", role: "viewer" },
  { href: "/jobs", label: "Jobs", key: "jobs", role: "viewer" },
  { href: "/system", label: "System", key: "system", role: "viewer" },
  { href: "/settings", label: "Settings", key: "settings", role: "viewer" },
  { href: "/users", label: "Users", key: "users", role: "admin" },
  { href: "/security", label: "Security", key: "security", role: "admin" },
  { href: "/audit", label: "Audit", key: "audit", role: "admin" },
];

const RANK: Record<Role, number> = { viewer: 1, technician: 2, admin: 3 };

/**
 * htmx configuration (a meta tag, not a script, because the CSP forbids inline scripts): no injected indicator
 * stylesheet (its rules live in app.css), only the SSE extension may register, and 4xx/5xx fragments are swapped
 * (errors are retargeted to #flash by the server).
 */
const HTMX_CONFIG = JSON.stringify({ includeIndicatorCSS: false, extensions: "sse", defaultTimeout: 30000 });

/** The page frame. Scripts are external files (the CSP forbids inline scripts and styles). */
export function Layout({ title, children, banner, nodeId, user, active, keepalive }: LayoutProps): JSX.Element {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title safe>{`${title} · lteproxy`}</title>
          <link rel="stylesheet" href="/static/app.css" />
          <script src="/static/htmx.min.js"></script>
          <script src="/static/hx-sse.min.js"></script>
          <script src="/static/app.js" defer></script>
        </head>
        <body>
          <header class="top">
            <a href="/" class="brand"><strong>lteproxy</strong></a>
            {user ? (
              <nav>
                {NAV.filter((n) => RANK[user.role] >= RANK[n.role]).map((n) => (
                  <a href={n.href} class={n.key === active ? "active" : ""} safe>{n.label}</a>
                ))}
              </nav>
            ) : ""}
            <span class="spacer"></span>
            {nodeId ? <span class="muted" safe>{`node ${nodeId}`}</span> : ""}
            {user ? (
              <span class="who">
                <a href="/account" safe>{`${user.username} (${user.role})`}</a>
                <button class="link" hx-post="/logout" hx-swap="none">Log out</button>
              </span>
            ) : ""}
          </header>
          {banner ? <div class="banner" role="status" id="banner" safe>{banner}</div> : ""}
          <div id="flash" aria-live="polite"></div>
          <main>{children}</main>
          {user && keepalive ? <div class="hidden" hx-get="/auth/ping" hx-trigger="every 240s" hx-swap="none"></div> : ""}
        </body>
      </html>
    </>
  );
}

/** A small error notice for htmx requests (swapped into #flash) and full error pages. */
export function ErrorNotice({ status, message }: { status: number; message: string }): JSX.Element {
  return (
    <div class="error" role="alert">
      <strong safe>{String(status)}</strong> <span safe>{message}</span>
    </div>
  );
}

export function ErrorPage({ status, message, user }: { status: number; message: string; user?: PageUser | null }): JSX.Element {
  return (
    <Layout title={`Error ${status}`} user={user}>
      <h1 safe>{`Error ${status}`}</h1>
      <p safe>{message}</p>
      <p><a href="/">Back to the modems</a></p>
    </Layout>
  );
}
