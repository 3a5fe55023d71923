import type { Children } from "@kitajs/html";

export interface LayoutProps {
  title: string;
  children?: Children;
  /** Shown above the page, e.g. "database unreachable: read-only". */
  banner?: string;
  nodeId?: string;
}

/** The page frame. Scripts are external files (the CSP forbids inline scripts). */
export function Layout({ title, children, banner, nodeId }: LayoutProps): JSX.Element {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title safe>{`${title} · lteproxy`}</title>
          <link rel="stylesheet" href="/static/app.css" />
          <script src="/static/htmx.min.js"></script>
          <script src="/static/hx-sse.min.js"></script>
        </head>
        <body>
          <header class="top">
            <a href="/"><strong>lteproxy</strong></a>
            <nav>
              <a href="/">Modems</a>
            </nav>
            {nodeId ? <span class="muted" safe>{`node ${nodeId}`}</span> : ""}
          </header>
          {banner ? <div class="banner" role="status" safe>{banner}</div> : ""}
          <main>{children}</main>
        </body>
      </html>
    </>
  );
}
