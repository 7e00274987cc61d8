import { DURATION_BUCKETS_SECONDS, OUTCOMES, type Overview } from '../core/stats.ts';

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string | number>;

/** Builds one exposition: each metric family once, with its HELP and TYPE lines. */
class Exposition {
  #lines: string[] = [];

  family(name: string, help: string, type: 'counter' | 'gauge', samples: [Labels, number][]): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.#lines.push(sample(name, labels, value));
  }

  histogram(
    name: string,
    help: string,
    series: { labels: Labels; buckets: number[]; sum: number; count: number }[],
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const { labels, buckets, sum, count } of series) {
      DURATION_BUCKETS_SECONDS.forEach((bound, i) => {
        this.#lines.push(
          sample(`${name}_bucket`, { ...labels, le: String(bound) }, buckets[i] ?? 0),
        );
      });
      this.#lines.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, count));
      this.#lines.push(sample(`${name}_sum`, labels, sum));
      this.#lines.push(sample(`${name}_count`, labels, count));
    }
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/**
 * The Prometheus text exposition of an {@link Overview}: tasks by name and outcome,
 * run-time histograms, tasks in flight, worker liveness and heartbeat age, and the
 * consumer lag per partition. Written by hand: the format is small and stable.
 */
export function renderMetrics(overview: Overview): string {
  const out = new Exposition();
  const { stats } = overview;
  out.family(
    'yadtq_tasks_total',
    'Task attempts finished, by task name and outcome.',
    'counter',
    stats.names.flatMap((n) =>
      OUTCOMES.map((status): [Labels, number] => [{ name: n.name, status }, n.counts[status]]),
    ),
  );
  out.family(
    'yadtq_tasks_cached_total',
    'Tasks answered from the result cache, by task name.',
    'counter',
    stats.names.map((n) => [{ name: n.name }, n.counts.cached]),
  );
  out.histogram(
    'yadtq_task_duration_seconds',
    'Run time of task attempts that ran (not cached), by task name.',
    stats.histogram.map((h) => ({
      labels: { name: h.name },
      buckets: h.buckets,
      sum: h.sumSeconds,
      count: h.count,
    })),
  );
  out.family('yadtq_tasks_in_flight', 'Tasks running now on live workers.', 'gauge', [
    [{}, overview.status.processing],
  ]);
  out.family(
    'yadtq_tasks_queued',
    'Tasks in the task topic not yet taken up (consumer lag less in flight).',
    'gauge',
    [[{}, overview.status.queued]],
  );
  out.family(
    'yadtq_worker_up',
    '1 while the worker heartbeat is alive, 0 once it stopped.',
    'gauge',
    overview.workers.map((w) => [{ worker: w.id }, w.alive ? 1 : 0]),
  );
  out.family(
    'yadtq_worker_heartbeat_age_seconds',
    'Seconds since the worker last refreshed its heartbeat.',
    'gauge',
    overview.workers.map((w) => [{ worker: w.id }, w.heartbeatAgeMs / 1000]),
  );
  out.family(
    'yadtq_worker_tasks_in_flight',
    'Tasks the worker is running now.',
    'gauge',
    overview.workers.map((w) => [{ worker: w.id }, w.alive ? w.inFlight : 0]),
  );
  out.family(
    'yadtq_worker_zombies',
    'Handlers the worker gave up at their timeout or cancel that still run (they ignore their abort signal), each holding a slot.',
    'gauge',
    overview.workers.map((w) => [{ worker: w.id }, w.alive ? (w.zombies ?? 0) : 0]),
  );
  out.family(
    'yadtq_worker_messages_dead_lettered_total',
    'Messages the worker sent to the dead-letter topic as they came (malformed, or expired).',
    'counter',
    overview.workers.map((w) => [{ worker: w.id }, w.deadLettered ?? 0]),
  );
  out.family(
    'yadtq_worker_tasks_total',
    'Tasks the worker finished, by outcome.',
    'counter',
    stats.workers.flatMap((w): [Labels, number][] => [
      [{ worker: w.workerId, status: 'success' }, w.processed],
      [{ worker: w.workerId, status: 'failed' }, w.failed],
    ]),
  );
  out.family(
    'yadtq_worker_busy_seconds_total',
    'Seconds the worker spent running tasks.',
    'counter',
    stats.workers.map((w) => [{ worker: w.workerId }, w.busyMs / 1000]),
  );
  const lag = overview.lag;
  out.family(
    'yadtq_consumer_lag',
    'Messages of the task topic partition not yet committed by the worker group.',
    'gauge',
    (lag?.partitions ?? []).map((p) => [
      { topic: lag!.topic, group: lag!.group, partition: p.partition, owner: p.owner ?? '' },
      p.lag,
    ]),
  );
  out.family(
    'yadtq_partition_end_offset',
    'Log end offset of the task topic partition.',
    'gauge',
    (lag?.partitions ?? []).map((p) => [
      { topic: lag!.topic, partition: p.partition },
      p.endOffset,
    ]),
  );
  out.family(
    'yadtq_partition_oldest_age_seconds',
    'Age of the record at the committed offset (the oldest not yet taken up); absent with no backlog.',
    'gauge',
    (lag?.partitions ?? []).flatMap((p): [Labels, number][] =>
      p.oldestAgeMs == null
        ? []
        : [[{ topic: lag!.topic, partition: p.partition }, p.oldestAgeMs / 1000]],
    ),
  );
  out.family(
    'yadtq_partition_near_retention',
    '1 when the oldest record not yet taken up nears the topic retention (Kafka may delete it).',
    'gauge',
    (lag?.partitions ?? []).map((p) => [
      { topic: lag!.topic, partition: p.partition },
      p.nearRetention === true ? 1 : 0,
    ]),
  );
  out.family(
    'yadtq_topic_retention_seconds',
    'retention.ms of the task topic, in seconds; absent when unlimited or unknown.',
    'gauge',
    lag?.retentionMs == null ? [] : [[{ topic: lag.topic }, lag.retentionMs / 1000]],
  );
  out.family(
    'yadtq_lag_read_errors',
    '1 when the consumer lag could not be read for this scrape.',
    'gauge',
    [[{}, overview.lagError === undefined ? 0 : 1]],
  );
  return out.toString();
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

/**
 * One worker's probes as gauges: `yadtq_worker_ready` (1 while it takes work) and
 * `yadtq_worker_store_reachable` (0 once its store has not answered within the heartbeat TTL).
 */
export function renderHealth(
  workerId: string,
  health: { ready: boolean; storeReachable: boolean },
): string {
  const out = new Exposition();
  out.family('yadtq_worker_ready', '1 while the worker takes work (see /readyz).', 'gauge', [
    [{ worker: workerId }, health.ready ? 1 : 0],
  ]);
  out.family(
    'yadtq_worker_store_reachable',
    '0 while the worker store (Redis) has not answered within the heartbeat TTL: fetching is paused.',
    'gauge',
    [[{ worker: workerId }, health.storeReachable ? 1 : 0]],
  );
  return out.toString();
}
