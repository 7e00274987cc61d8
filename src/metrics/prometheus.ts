import type { Overview } from '../core/stats.ts';
import { healthFamilies, type Labels, type MetricFamily, overviewFamilies } from './families.ts';

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The Prometheus text of some families, each once with its HELP and TYPE lines. Written
 * by hand (the format is small and stable), so `/metrics` needs no package; a service
 * with its own prom-client registry registers the same families there instead
 * (`registerFleetMetrics`).
 */
export function renderFamilies(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const { name, help, type, samples } of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { metricName = name, labels, value } of samples)
      lines.push(sample(metricName, labels, value));
  }
  return `${lines.join('\n')}\n`;
}

/** The Prometheus text exposition of an {@link Overview} ({@link overviewFamilies}). */
export function renderMetrics(overview: Overview): string {
  return renderFamilies(overviewFamilies(overview));
}

/**
 * One worker's probes as gauges: `yadtq_worker_ready` (1 while it takes work) and
 * `yadtq_worker_store_reachable` (0 once its store has not answered within the heartbeat TTL).
 */
export function renderHealth(
  workerId: string,
  health: { ready: boolean; storeReachable: boolean },
): string {
  return renderFamilies(healthFamilies(workerId, health));
}

function sample(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  const text = entries.length
    ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}`
    : '';
  return `${name}${text} ${formatValue(value)}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
