import { DEFAULTS } from '../core/defaults.ts';
import {
  bucketStart,
  cumulative,
  DURATION_BUCKETS_SECONDS,
  type DurationHistogram,
  emptyBucket,
  emptyCounts,
  histogramBucket,
  OTHER_NAME,
  type OutcomeCounts,
  type RecentTask,
  recentOf,
  STATS_LIMITS,
  type Stats,
  type StatsSnapshot,
  summarizeDurations,
  type TaskOutcomeEvent,
  type ThroughputBucket,
  throughputWindow,
  type WorkerStats,
} from '../core/stats.ts';

interface NameEntry {
  counts: OutcomeCounts;
  durations: number[];
  buckets: number[];
  sumMs: number;
  count: number;
}

/**
 * The embedded {@link Stats}: the same fixed-size structures as the Redis one (capped
 * lists, counters, time buckets), in this process.
 */
export class MemoryStats implements Stats {
  #totals = emptyCounts();
  #names = new Map<string, NameEntry>();
  #workers = new Map<string, WorkerStats>();
  #failures: RecentTask[] = [];
  #recent: RecentTask[] = [];
  #throughput = new Map<number, ThroughputBucket>();

  async recordMany(events: readonly TaskOutcomeEvent[]): Promise<void> {
    for (const event of events) await this.record(event);
  }

  async record(event: TaskOutcomeEvent): Promise<void> {
    const name =
      this.#names.has(event.name) || this.#names.size < STATS_LIMITS.names
        ? event.name
        : OTHER_NAME;
    const entry = this.#names.get(name) ?? newNameEntry();
    this.#names.set(name, entry);
    for (const counts of [this.#totals, entry.counts]) {
      counts[event.status]++;
      if (event.cached) counts.cached++;
    }
    const ran = (event.status === 'success' || event.status === 'failed') && !event.cached;
    if (ran) {
      entry.durations.unshift(event.durationMs);
      entry.durations.length = Math.min(entry.durations.length, STATS_LIMITS.durationsPerName);
      entry.buckets[histogramBucket(event.durationMs)]!++;
      entry.sumMs += event.durationMs;
      entry.count++;
    }
    const worker = this.#workers.get(event.workerId) ?? {
      workerId: event.workerId,
      processed: 0,
      failed: 0,
      busyMs: 0,
      lastOutcomeAt: 0,
    };
    this.#workers.delete(event.workerId);
    if (event.status === 'success') worker.processed++;
    if (event.status === 'failed') worker.failed++;
    worker.busyMs += event.durationMs;
    worker.lastOutcomeAt = event.finishedAt;
    // Map order is insertion order: re-inserting keeps the least recently active first.
    this.#workers.set(event.workerId, worker);
    for (const [id, w] of this.#workers) {
      const stale = w.lastOutcomeAt < event.finishedAt - STATS_LIMITS.workerRetentionMs;
      if (!stale && this.#workers.size <= STATS_LIMITS.workers) break;
      this.#workers.delete(id);
    }
    const recent = recentOf(event);
    this.#recent.unshift(recent);
    this.#recent.length = Math.min(this.#recent.length, STATS_LIMITS.recentTasks);
    if (event.status === 'failed') {
      this.#failures.unshift(recent);
      this.#failures.length = Math.min(this.#failures.length, STATS_LIMITS.failures);
    }
    const at = bucketStart(event.finishedAt);
    const bucket = this.#throughput.get(at) ?? emptyBucket(at);
    bucket[event.status]++;
    this.#throughput.set(at, bucket);
    const oldest = at - STATS_LIMITS.bucketMs * STATS_LIMITS.buckets;
    for (const key of this.#throughput.keys()) if (key <= oldest) this.#throughput.delete(key);
  }

  async snapshot(now = Date.now()): Promise<StatsSnapshot> {
    const histogram: DurationHistogram[] = [];
    const names = [...this.#names].map(([name, entry]) => {
      histogram.push(cumulative(name, entry.buckets, entry.sumMs, entry.count));
      return { name, counts: { ...entry.counts }, durations: summarizeDurations(entry.durations) };
    });
    return {
      totals: { ...this.#totals },
      names: names.sort((a, b) => a.name.localeCompare(b.name)),
      workers: [...this.#workers.values()]
        .map((w) => ({ ...w }))
        .sort((a, b) => a.workerId.localeCompare(b.workerId)),
      failures: this.#failures.map((f) => ({ ...f })),
      throughput: throughputWindow(now, (at) => this.#throughput.get(at)),
      histogram: histogram.sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  async recentTasks(
    options: { status?: RecentTask['status']; limit?: number } = {},
  ): Promise<RecentTask[]> {
    const limit = options.limit ?? DEFAULTS.listLimit;
    return this.#recent
      .filter((t) => options.status === undefined || t.status === options.status)
      .slice(0, limit)
      .map((t) => ({ ...t }));
  }

  /** How many entries the bounded structures hold now (for tests of the bounds). */
  sizes(): Record<string, number> {
    let durations = 0;
    for (const entry of this.#names.values()) durations += entry.durations.length;
    return {
      names: this.#names.size,
      durations,
      workers: this.#workers.size,
      failures: this.#failures.length,
      recent: this.#recent.length,
      buckets: this.#throughput.size,
    };
  }
}

function newNameEntry(): NameEntry {
  return {
    counts: emptyCounts(),
    durations: [],
    buckets: new Array(DURATION_BUCKETS_SECONDS.length + 1).fill(0),
    sumMs: 0,
    count: 0,
  };
}
