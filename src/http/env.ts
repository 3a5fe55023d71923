/** The services every HTTP plugin shares, built once by createHttpApp from the HttpContext. */
import type { HttpContext } from "./context.ts";
import type { JwtKeyRing } from "./auth/jwt-keys.ts";
import type { Sessions } from "./auth/session.ts";
import type { SecurityMonitor } from "./auth/security-monitor.ts";
import type { Authenticator } from "./auth/principal.ts";
import type { RoutePolicy } from "./route-policy.ts";
import type { SseBroker } from "./sse-broker.ts";
import type { MetricsRegistry } from "./metrics-registry.ts";
import type { LiveFeeds } from "./live/live-feeds.ts";
import type { RenderOptions } from "./live/render.ts";

export interface HttpEnv {
  ctx: HttpContext;
  keys: JwtKeyRing;
  sessions: Sessions;
  auth: Authenticator;
  security: SecurityMonitor;
  policy: RoutePolicy;
  broker: SseBroker;
  feeds: LiveFeeds;
  metrics: MetricsRegistry;
  /** How views convert raw values (SINR scale). */
  render: RenderOptions;
  now(): number;
}
