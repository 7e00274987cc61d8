import { DURATION_BUCKETS_SECONDS, OUTCOMES, type Overview } from '../core/stats.ts';

/** Label names and values of one sample. */
export type Labels = Record<string, string | number>;

/** One sample of a family; `metricName` for a histogram's `_bucket`, `_sum` and `_count`. */
export interface MetricSample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/** One metric family of yadtq's exposition: the unit both renderers write. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: MetricSample[];
}

type Help = Pick<MetricFamily, 'help' | 'type'>;

/**
 * Every family yadtq exports, by name, with its help and type: the names are fixed, so a
 * registry can hold them before the first scrape.
 */
export const FLEET_FAMILIES = {
  yadtq_tasks_total: { help: 'Task attempts finished, by task name and outcome.', type: 'counter' },
  yadtq_tasks_cached_total: {
    help: 'Tasks answered from the result cache, by task name.',
    type: 'counter',
  },
  yadtq_task_duration_seconds: {
    help: 'Run time of task attempts that ran (not cached), by task name.',
    type: 'histogram',
  },
  yadtq_tasks_in_flight: { help: 'Tasks running now on live workers.', type: 'gauge' },
  yadtq_tasks_queued: {
    help: 'Tasks in the task topic not yet taken up (consumer lag less in flight).',
    type: 'gauge',
  },
  yadtq_tasks_parked: {
    help: 'Tasks parked until their turn (ordering lanes, concurrency and rate limits), in all.',
    type: 'gauge',
  },
  yadtq_tasks_parked_by_group: {
    help: 'Tasks parked until their turn, per group (lane:<key>, limit:<name>[:<key>], rate:<name>[:<key>]); the 20 largest groups only.',
    type: 'gauge',
  },
  yadtq_worker_up: {
    help: '1 while the worker heartbeat is alive, 0 once it stopped.',
    type: 'gauge',
  },
  yadtq_worker_heartbeat_age_seconds: {
    help: 'Seconds since the worker last refreshed its heartbeat.',
    type: 'gauge',
  },
  yadtq_worker_tasks_in_flight: { help: 'Tasks the worker is running now.', type: 'gauge' },
  yadtq_worker_zombies: {
    help: 'Handlers the worker gave up at their timeout or cancel that still run (they ignore their abort signal), each holding a slot.',
    type: 'gauge',
  },
  yadtq_worker_messages_dead_lettered_total: {
    help: 'Messages the worker sent to the dead-letter topic as they came (malformed, or expired).',
    type: 'counter',
  },
  yadtq_worker_tasks_total: { help: 'Tasks the worker finished, by outcome.', type: 'counter' },
  yadtq_worker_busy_seconds_total: {
    help: 'Seconds the worker spent running tasks.',
    type: 'counter',
  },
  yadtq_consumer_lag: {
    help: 'Messages of the task topic partition not yet committed by the worker group.',
    type: 'gauge',
  },
  yadtq_partition_end_offset: {
    help: 'Log end offset of the task topic partition.',
    type: 'gauge',
  },
  yadtq_partition_oldest_age_seconds: {
    help: 'Age of the record at the committed offset (the oldest not yet taken up); absent with no backlog.',
    type: 'gauge',
  },
  yadtq_partition_near_retention: {
    help: '1 when the oldest record not yet taken up nears the topic retention (Kafka may delete it).',
    type: 'gauge',
  },
  yadtq_topic_retention_seconds: {
    help: 'retention.ms of the task topic, in seconds; absent when unlimited or unknown.',
    type: 'gauge',
  },
  yadtq_lag_read_errors: {
    help: '1 when the consumer lag could not be read for this scrape.',
    type: 'gauge',
  },
} as const satisfies Record<string, Help>;

/** A worker's probe families (`yadtq worker --metrics-port`). */
export const HEALTH_FAMILIES = {
  yadtq_worker_ready: { help: '1 while the worker takes work (see /readyz).', type: 'gauge' },
  yadtq_worker_store_reachable: {
    help: '0 while the worker store (Redis) has not answered within the heartbeat TTL: fetching is paused.',
    type: 'gauge',
  },
} as const satisfies Record<string, Help>;

/** The name of a family yadtq exports. */
export type FamilyName = keyof typeof FLEET_FAMILIES | keyof typeof HEALTH_FAMILIES;

const ALL: Record<FamilyName, Help> = { ...FLEET_FAMILIES, ...HEALTH_FAMILIES };

function family(name: FamilyName, samples: [Labels, number][]): MetricFamily {
  return { name, ...ALL[name], samples: samples.map(([labels, value]) => ({ labels, value })) };
}

function histogram(
  name: FamilyName,
  series: { labels: Labels; buckets: number[]; sum: number; count: number }[],
): MetricFamily {
  const samples: MetricSample[] = [];
  for (const { labels, buckets, sum, count } of series) {
    DURATION_BUCKETS_SECONDS.forEach((bound, i) => {
      samples.push({
        metricName: `${name}_bucket`,
        labels: { ...labels, le: String(bound) },
        value: buckets[i] ?? 0,
      });
    });
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
    samples.push({ metricName: `${name}_sum`, labels, value: sum });
    samples.push({ metricName: `${name}_count`, labels, value: count });
  }
  return { name, ...ALL[name], samples };
}

/**
 * The families of an {@link Overview}: tasks by name and outcome, run-time histograms,
 * tasks in flight, worker liveness and heartbeat age, and the consumer lag per partition.
 */
export function overviewFamilies(overview: Overview): MetricFamily[] {
  const { stats, workers } = overview;
  const lag = overview.lag;
  const partitions = lag?.partitions ?? [];
  const topic = lag?.topic ?? '';
  return [
    family(
      'yadtq_tasks_total',
      stats.names.flatMap((n) =>
        OUTCOMES.map((status): [Labels, number] => [{ name: n.name, status }, n.counts[status]]),
      ),
    ),
    family(
      'yadtq_tasks_cached_total',
      stats.names.map((n) => [{ name: n.name }, n.counts.cached]),
    ),
    histogram(
      'yadtq_task_duration_seconds',
      stats.histogram.map((h) => ({
        labels: { name: h.name },
        buckets: h.buckets,
        sum: h.sumSeconds,
        count: h.count,
      })),
    ),
    family('yadtq_tasks_in_flight', [[{}, overview.status.processing]]),
    family('yadtq_tasks_queued', [[{}, overview.status.queued]]),
    family('yadtq_tasks_parked', overview.parked === null ? [] : [[{}, overview.parked.total]]),
    family(
      'yadtq_tasks_parked_by_group',
      (overview.parked?.groups ?? []).map((g) => [{ group: g.group }, g.tasks]),
    ),
    family(
      'yadtq_worker_up',
      workers.map((w) => [{ worker: w.id }, w.alive ? 1 : 0]),
    ),
    family(
      'yadtq_worker_heartbeat_age_seconds',
      workers.map((w) => [{ worker: w.id }, w.heartbeatAgeMs / 1000]),
    ),
    family(
      'yadtq_worker_tasks_in_flight',
      workers.map((w) => [{ worker: w.id }, w.alive ? w.inFlight : 0]),
    ),
    family(
      'yadtq_worker_zombies',
      workers.map((w) => [{ worker: w.id }, w.alive ? (w.zombies ?? 0) : 0]),
    ),
    family(
      'yadtq_worker_messages_dead_lettered_total',
      workers.map((w) => [{ worker: w.id }, w.deadLettered ?? 0]),
    ),
    family(
      'yadtq_worker_tasks_total',
      stats.workers.flatMap((w): [Labels, number][] => [
        [{ worker: w.workerId, status: 'success' }, w.processed],
        [{ worker: w.workerId, status: 'failed' }, w.failed],
      ]),
    ),
    family(
      'yadtq_worker_busy_seconds_total',
      stats.workers.map((w) => [{ worker: w.workerId }, w.busyMs / 1000]),
    ),
    family(
      'yadtq_consumer_lag',
      partitions.map((p) => [
        { topic, group: lag!.group, partition: p.partition, owner: p.owner ?? '' },
        p.lag,
      ]),
    ),
    family(
      'yadtq_partition_end_offset',
      partitions.map((p) => [{ topic, partition: p.partition }, p.endOffset]),
    ),
    family(
      'yadtq_partition_oldest_age_seconds',
      partitions.flatMap((p): [Labels, number][] =>
        p.oldestAgeMs == null ? [] : [[{ topic, partition: p.partition }, p.oldestAgeMs / 1000]],
      ),
    ),
    family(
      'yadtq_partition_near_retention',
      partitions.map((p) => [{ topic, partition: p.partition }, p.nearRetention === true ? 1 : 0]),
    ),
    family(
      'yadtq_topic_retention_seconds',
      lag?.retentionMs == null ? [] : [[{ topic }, lag.retentionMs / 1000]],
    ),
    family('yadtq_lag_read_errors', [[{}, overview.lagError === undefined ? 0 : 1]]),
  ];
}

/** One worker's probes as gauges: ready (takes work) and store reachable. */
export function healthFamilies(
  workerId: string,
  health: { ready: boolean; storeReachable: boolean },
): MetricFamily[] {
  return [
    family('yadtq_worker_ready', [[{ worker: workerId }, health.ready ? 1 : 0]]),
    family('yadtq_worker_store_reachable', [[{ worker: workerId }, health.storeReachable ? 1 : 0]]),
  ];
}
