/**
 * The metrics health needs, as a shape: the panel's MetricsRegistry (src/http/metrics-registry.ts) fits it, but
 * health sits below http in the import order, so it takes the registry structurally. Without one, nothing is
 * recorded.
 */
export type MetricLabels = Record<string, string | number>;

export interface MetricsLike {
  counter(name: string, help: string, labelNames?: readonly string[]): { inc(labels?: MetricLabels, by?: number): void };
  gauge(name: string, help: string, labelNames?: readonly string[]): { set(labels: MetricLabels, value: number): void; remove?(labels: MetricLabels): void };
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): { observe(labels: MetricLabels, value: number): void };
}

const noop = { inc() {}, set() {}, observe() {}, remove() {} };

export const NO_METRICS: MetricsLike = {
  counter: () => noop,
  gauge: () => noop,
  histogram: () => noop,
};

/** Every metric health registers, in one place (names follow the registry's conventions). */
export function healthMetrics(m: MetricsLike = NO_METRICS) {
  return {
    sweepSeconds: m.histogram("lteproxy_health_sweep_duration_seconds", "Duration of a health sweep over every modem", [], [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30]),
    sweeps: m.counter("lteproxy_health_sweeps_total", "Health sweeps run", ["result"]),
    probeFailures: m.counter("lteproxy_health_probe_failures_total", "Failed health probes by kind (at, data)", ["probe"]),
    healSteps: m.counter("lteproxy_heal_steps_total", "Heal ladder attempts by step and result", ["step", "result"]),
    healing: m.gauge("lteproxy_heal_ladders_active", "Heal ladders running now"),
    alertsOpen: m.gauge("lteproxy_health_alerts_open", "Alerts health holds open, by kind and severity", ["kind", "severity"]),
    alertsRaised: m.counter("lteproxy_health_alerts_raised_total", "Alerts opened (or re-opened while open) by kind", ["kind", "severity"]),
    webhook: m.counter("lteproxy_alert_webhook_deliveries_total", "Alert webhook deliveries by result (ok, failed)", ["result"]),
    hubsDown: m.gauge("lteproxy_usb_hubs_down", "USB hubs with an open hub-failure incident"),
  };
}

export type HealthMetrics = ReturnType<typeof healthMetrics>;
