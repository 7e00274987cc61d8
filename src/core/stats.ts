import type { MonitorStore, ParkedCounts, WorkerInfo, WorkerRegistry } from './store.ts';
import type { TaskStatus } from './task-record.ts';

/** One finished attempt, as the worker reports it for monitoring. */
export interface TaskOutcomeEvent {
  taskId: string;
  name: string;
  workerId: string;
  status: Extract<TaskStatus, 'success' | 'failed' | 'retrying' | 'cancelled'>;
  /** Run time of the attempt (0 when answered from the cache). */
  durationMs: number;
  finishedAt: number;
  cached: boolean;
  /** The error message of a failed attempt. */
  error?: string;
}

/** Where workers report outcomes for stats, dashboards and metrics (bounded storage). */
export interface StatsRecorder {
  record(event: TaskOutcomeEvent): Promise<void>;
  /** Several outcomes in as few round trips as the recorder can (else one record each). */
  recordMany?(events: readonly TaskOutcomeEvent[]): Promise<void>;
}

/** The outcomes stats count, in display order. */
export const OUTCOMES = ['success', 'failed', 'retrying', 'cancelled'] as const;

/** One of {@link OUTCOMES}. */
export type Outcome = (typeof OUTCOMES)[number];

/** Counts by outcome, plus how many successes came from the result cache. */
export type OutcomeCounts = Record<Outcome, number> & { cached: number };

/**
 * The fixed sizes that keep stats memory flat however many tasks run. Both stats
 * implementations (Redis and memory) keep exactly these bounds.
 */
export const STATS_LIMITS = {
  /** Recent run times kept per task name, for percentiles. */
  durationsPerName: 500,
  /** Recent failures kept, newest first. */
  failures: 100,
  /** Recent outcomes kept for `yadtq tasks`, newest first. */
  recentTasks: 1000,
  /** Task names tracked; outcomes of further names are counted under `(other)`. */
  names: 200,
  /** Workers tracked; the least recently active are dropped beyond this. */
  workers: 200,
  /** How long a worker's stats are kept after its last outcome, in ms. */
  workerRetentionMs: 24 * 60 * 60 * 1000,
  /** Width of one throughput bucket, in ms. */
  bucketMs: 10_000,
  /** Throughput buckets kept (90 × 10 s = the last 15 minutes). */
  buckets: 90,
} as const;

/** The name outcomes of task names beyond {@link STATS_LIMITS}.names are counted under. */
export const OTHER_NAME = '(other)';

/** Per task name: counts by outcome and run-time percentiles over the recent window. */
export interface TaskNameStats {
  name: string;
  counts: OutcomeCounts;
  /** Run times (ms) of the most recent runs (at most `STATS_LIMITS.durationsPerName`). */
  durations: DurationSummary;
}

/** Percentiles of a window of run times, in ms (all 0 when the window is empty). */
export interface DurationSummary {
  samples: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Per worker: what it finished and how long it was busy. */
export interface WorkerStats {
  workerId: string;
  processed: number;
  failed: number;
  busyMs: number;
  lastOutcomeAt: number;
}

/** One recent outcome, as `yadtq tasks` lists it. */
export interface RecentTask {
  id: string;
  name: string;
  status: Outcome;
  workerId: string;
  finishedAt: number;
  durationMs: number;
  cached: boolean;
  error?: string;
}

/** Outcomes finished within one throughput bucket starting at `at`. */
export interface ThroughputBucket {
  at: number;
  success: number;
  failed: number;
  retrying: number;
  cancelled: number;
}

/** Everything the stats store holds, read at once. */
export interface StatsSnapshot {
  totals: OutcomeCounts;
  names: TaskNameStats[];
  workers: WorkerStats[];
  /** Newest first. */
  failures: RecentTask[];
  /** Oldest first, the last `STATS_LIMITS.buckets` buckets, empty ones included. */
  throughput: ThroughputBucket[];
  /** Every bound run-time bucket seen, for the duration histogram (upper bounds in s). */
  histogram: DurationHistogram[];
}

/** A Prometheus-style cumulative run-time histogram of one task name (since stats began). */
export interface DurationHistogram {
  name: string;
  /** Cumulative counts per upper bound of {@link DURATION_BUCKETS_SECONDS}, then +Inf. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

/** Upper bounds (seconds) of the run-time histogram buckets. */
export const DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** The read side of the stats: what CLIs, the dashboard and `/metrics` show. */
export interface StatsReader {
  snapshot(now?: number): Promise<StatsSnapshot>;
  /** Recent outcomes, newest first, optionally of one status. */
  recentTasks(options?: { status?: Outcome; limit?: number }): Promise<RecentTask[]>;
}

/** Both sides of the stats, as a backend offers them. */
export interface Stats extends StatsRecorder, StatsReader {}

/** Consumer lag of one partition of the task topic. */
export interface PartitionLag {
  partition: number;
  /** Offset the next message will get (the log end offset). */
  endOffset: number;
  /** The group's committed offset; null when it has committed none. */
  committedOffset: number | null;
  /** Messages not yet committed by the group: end − committed (or end − log start). */
  lag: number;
  /** The worker (consumer group member) that owns the partition now, if any. */
  owner: string | null;
  /**
   * Age (ms) of the record at the committed offset, the oldest one not yet taken up;
   * null when there is none (no lag) or it could not be read.
   */
  oldestAgeMs?: number | null;
  /**
   * True when {@link oldestAgeMs} is past `DEFAULTS.retentionWarningRatio` of the topic's
   * retention: Kafka deletes whole segments once their newest record is past it, so the
   * backlog may vanish from then on.
   */
  nearRetention?: boolean;
}

/** Consumer lag of the whole task topic. */
export interface LagSnapshot {
  topic: string;
  group: string;
  partitions: PartitionLag[];
  total: number;
  /** The task topic's `retention.ms`; null when unlimited or unknown (the memory log). */
  retentionMs?: number | null;
}

/** Whether a backlog this old is near `retentionMs` (see {@link PartitionLag.nearRetention}). */
export function nearRetention(
  ageMs: number | null | undefined,
  retentionMs: number | null | undefined,
  ratio: number,
): boolean {
  return ageMs != null && retentionMs != null && ageMs >= retentionMs * ratio;
}

/** Task counts by status, as the dashboard and `yadtq stats` show them. */
export interface StatusCounts {
  /** Messages in the task topic not yet taken up: total lag − in flight (never < 0). */
  queued: number;
  /** Tasks running now: the sum of the in-flight counts the live workers publish. */
  processing: number;
  success: number;
  failed: number;
  retrying: number;
  cancelled: number;
}

/** A worker as monitoring shows it: its heartbeat and its recorded stats. */
export interface WorkerOverview extends WorkerInfo {
  alive: boolean;
  heartbeatAgeMs: number;
  busyMs: number;
}

/** Parked-task groups an overview lists (the largest; `parked.groupCount` tells them all). */
export const PARKED_GROUPS = 20;

/** The whole picture at one moment: `yadtq stats --json`, `/api/overview`, SSE snapshots. */
export interface Overview {
  at: number;
  status: StatusCounts;
  workers: WorkerOverview[];
  lag: LagSnapshot | null;
  /** Set when the lag could not be read (the rest of the picture is still good). */
  lagError?: string;
  /**
   * Tasks parked until their turn (ordering lanes), the largest groups first; null when
   * the source has no monitor store or it could not be read.
   */
  parked: ParkedCounts | null;
  stats: StatsSnapshot;
}

/**
 * Reads the stats, the workers and the lag together. Terminal counts come from the
 * recorded outcomes (counters, not scans); `processing` from the live workers' heartbeats;
 * `queued` from the Kafka lag less what is in flight, so no count needs a scan of records.
 */
export async function readOverview(source: {
  stats: StatsReader;
  registry: Pick<WorkerRegistry, 'list'>;
  lag: () => Promise<LagSnapshot>;
  /** Where parked tasks are counted (a backend's); without it `parked` is null. */
  monitorStore?: Pick<MonitorStore, 'parked'>;
  now?: number;
}): Promise<Overview> {
  const now = source.now ?? Date.now();
  const [stats, infos, lagResult, parked] = await Promise.all([
    source.stats.snapshot(now),
    source.registry.list(),
    source.lag().then(
      (lag) => ({ lag }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    ),
    source.monitorStore?.parked(PARKED_GROUPS).catch(() => null) ?? null,
  ]);
  const busy = new Map(stats.workers.map((w) => [w.workerId, w.busyMs]));
  const workers = infos.map((info) => ({
    ...info,
    alive: info.alive === true,
    heartbeatAgeMs: Math.max(0, now - info.lastHeartbeat),
    busyMs: busy.get(info.id) ?? 0,
  }));
  const processing = workers.reduce((sum, w) => sum + (w.alive ? w.inFlight : 0), 0);
  const lag = 'lag' in lagResult ? lagResult.lag : null;
  const { totals } = stats;
  return {
    at: now,
    status: {
      queued: Math.max(0, (lag?.total ?? 0) - processing),
      processing,
      success: totals.success,
      failed: totals.failed,
      retrying: totals.retrying,
      cancelled: totals.cancelled,
    },
    workers,
    lag,
    ...('error' in lagResult ? { lagError: lagResult.error } : {}),
    parked,
    stats,
  };
}

/** Percentiles of `durations` (nearest rank). */
export function summarizeDurations(durations: readonly number[]): DurationSummary {
  if (durations.length === 0) return { samples: 0, p50: 0, p95: 0, max: 0, mean: 0 };
  const sorted = [...durations].sort((a, b) => a - b);
  const rank = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    p50: rank(0.5),
    p95: rank(0.95),
    max: sorted[sorted.length - 1]!,
    mean: Math.round(sum / sorted.length),
  };
}

/** Zero counts. */
export function emptyCounts(): OutcomeCounts {
  return { success: 0, failed: 0, retrying: 0, cancelled: 0, cached: 0 };
}

/** The index of the first histogram bucket `durationMs` falls in (the +Inf one at the end). */
export function histogramBucket(durationMs: number): number {
  const seconds = durationMs / 1000;
  const index = DURATION_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
  return index === -1 ? DURATION_BUCKETS_SECONDS.length : index;
}

/** The entry `yadtq tasks` and the failure list keep of an outcome. */
export function recentOf(event: TaskOutcomeEvent): RecentTask {
  return {
    id: event.taskId,
    name: event.name,
    status: event.status,
    workerId: event.workerId,
    finishedAt: event.finishedAt,
    durationMs: event.durationMs,
    cached: event.cached,
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

/** The start of the throughput bucket `time` falls in. */
export function bucketStart(time: number): number {
  return time - (time % STATS_LIMITS.bucketMs);
}

/** An empty throughput bucket. */
export function emptyBucket(at: number): ThroughputBucket {
  return { at, success: 0, failed: 0, retrying: 0, cancelled: 0 };
}

/** The last `STATS_LIMITS.buckets` buckets up to `now`, oldest first, gaps filled. */
export function throughputWindow(
  now: number,
  lookup: (at: number) => ThroughputBucket | undefined,
): ThroughputBucket[] {
  const last = bucketStart(now);
  return Array.from({ length: STATS_LIMITS.buckets }, (_, i) => {
    const at = last - (STATS_LIMITS.buckets - 1 - i) * STATS_LIMITS.bucketMs;
    return { ...(lookup(at) ?? emptyBucket(at)) };
  });
}

/** Per-bucket counts made cumulative, Prometheus style. */
export function cumulative(
  name: string,
  perBucket: readonly number[],
  sumMs: number,
  count: number,
): DurationHistogram {
  let running = 0;
  const buckets = perBucket.map((n) => {
    running += n;
    return running;
  });
  return { name, buckets, sumSeconds: sumMs / 1000, count };
}
