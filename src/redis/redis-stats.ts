import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import {
  bucketStart,
  cumulative,
  DURATION_BUCKETS_SECONDS,
  type DurationHistogram,
  emptyBucket,
  emptyCounts,
  histogramBucket,
  OTHER_NAME,
  OUTCOMES,
  type OutcomeCounts,
  type RecentTask,
  recentOf,
  STATS_LIMITS,
  type Stats,
  type StatsSnapshot,
  summarizeDurations,
  type TaskNameStats,
  type TaskOutcomeEvent,
  type ThroughputBucket,
  throughputWindow,
  type WorkerStats,
} from '../core/stats.ts';
import { closeConnection, redactUrl, whenReady } from './connection.ts';
import type { RedisClient, RedisConnectionOptions } from './options.ts';

/** Options of {@link RedisStats}. */
export interface RedisStatsOptions {
  /** Default `DEFAULTS.redisUrl`. */
  url?: string;
  /** The store's key prefix; stats keys are `<prefix>stats:…`. Default `DEFAULTS.prefix`. */
  prefix?: string;
  /** Default `DEFAULTS.connectTimeoutMs`. */
  connectTimeoutMs?: number;
  /** More ioredis options (`username`, `password`, `tls`, …). */
  redis?: RedisConnectionOptions;
  /**
   * An ioredis connection to write through instead of opening one (the backend passes its
   * stores' connection); `url` and `redis` are then unused and `close` leaves it open.
   */
  client?: RedisClient;
}

interface StatsCommands {
  yadtqRecordStats(...keysAndArgs: (string | number)[]): Promise<number>;
}

/** Outcomes one stats script call records at most: bounds how long it holds Redis. */
const RECORD_BATCH = 200;

const RECORD_LUA = readFileSync(new URL('./lua/record-stats.lua', import.meta.url), 'utf8');

/**
 * The production {@link Stats}: fixed-size Redis structures under `<prefix>stats:`, one
 * Lua script call per batch of recorded outcomes and two pipelined round trips per snapshot.
 *
 * Keys (P = `<prefix>stats:`): `P totals` and `P name:<name>` hashes (counts by outcome,
 * run-time histogram), `P names` set (at most `STATS_LIMITS.names`), `P durations:<name>`
 * capped lists, `P worker:<id>` hashes with a TTL, `P workers` zset (capped), `P recent`
 * and `P failures` capped lists, `P tp:<bucket>` hashes that expire after 15 minutes.
 */
export class RedisStats implements Stats {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #connectTimeoutMs: number;
  readonly #where: string;
  readonly #ownsClient: boolean;
  #closed = false;

  constructor(options: RedisStatsOptions = {}) {
    const url = options.url ?? DEFAULTS.redisUrl;
    this.#prefix = `${options.prefix ?? DEFAULTS.prefix}stats:`;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    // The backend passes its stores' ioredis connection (checked when they were made).
    const client = options.client as Redis | undefined;
    this.#ownsClient = client === undefined;
    this.#where =
      client === undefined ? redactUrl(url) : `${client.options.host}:${client.options.port}`;
    this.#redis =
      client ??
      new Redis(url, {
        connectTimeout: this.#connectTimeoutMs,
        enableAutoPipelining: true,
        lazyConnect: true,
        ...options.redis,
      });
    if (this.#ownsClient) this.#redis.on('error', () => {});
    // The caller passes the number of keys first: 11 per outcome of the batch.
    this.#redis.defineCommand('yadtqRecordStats', { lua: RECORD_LUA });
  }

  async record(event: TaskOutcomeEvent): Promise<void> {
    await this.recordMany([event]);
  }

  /** Records `events` with one script call per {@link RECORD_BATCH} (the worker's second of outcomes). */
  async recordMany(events: readonly TaskOutcomeEvent[]): Promise<void> {
    const calls: Promise<number>[] = [];
    for (let at = 0; at < events.length; at += RECORD_BATCH) {
      calls.push(this.#recordBatch(events.slice(at, at + RECORD_BATCH)));
    }
    await Promise.all(calls);
  }

  #recordBatch(events: readonly TaskOutcomeEvent[]): Promise<number> {
    const key = (kind: string) => `${this.#prefix}${kind}`;
    const keys: string[] = [];
    const args: (string | number)[] = [
      STATS_LIMITS.durationsPerName,
      STATS_LIMITS.failures,
      STATS_LIMITS.recentTasks,
      STATS_LIMITS.names,
      STATS_LIMITS.workers,
      STATS_LIMITS.workerRetentionMs,
      key('worker:'),
    ];
    for (const event of events) {
      keys.push(
        key('totals'),
        key(`name:${event.name}`),
        key(`name:${OTHER_NAME}`),
        key('names'),
        key(`durations:${event.name}`),
        key(`durations:${OTHER_NAME}`),
        key(`worker:${event.workerId}`),
        key('workers'),
        key('recent'),
        key('failures'),
        key(`tp:${bucketStart(event.finishedAt)}`),
      );
      args.push(
        event.name,
        event.workerId,
        event.status,
        event.cached ? '1' : '0',
        Math.max(0, Math.round(event.durationMs)),
        event.finishedAt,
        JSON.stringify(recentOf(event)),
        histogramBucket(event.durationMs),
        bucketStart(event.finishedAt) + STATS_LIMITS.bucketMs * (STATS_LIMITS.buckets + 1),
      );
    }
    const scripts = this.#redis as unknown as StatsCommands;
    return this.#call(() => scripts.yadtqRecordStats(keys.length, ...keys, ...args));
  }

  async snapshot(now = Date.now()): Promise<StatsSnapshot> {
    const key = (kind: string) => `${this.#prefix}${kind}`;
    const window = throughputWindow(now, () => undefined);
    const first = await this.#call(() => {
      const pipe = this.#redis.pipeline();
      pipe.hgetall(key('totals'));
      pipe.smembers(key('names'));
      pipe.zrange(key('workers'), 0, -1);
      pipe.lrange(key('failures'), 0, -1);
      for (const bucket of window) pipe.hgetall(key(`tp:${bucket.at}`));
      return pipe.exec();
    });
    const [totals, names, workerIds, failures, ...buckets] = results(first);
    const nameList = (names as string[]).sort();
    const ids = workerIds as string[];
    const second = await this.#call(() => {
      const pipe = this.#redis.pipeline();
      for (const name of nameList) {
        pipe.hgetall(key(`name:${name}`));
        pipe.lrange(key(`durations:${name}`), 0, -1);
      }
      for (const id of ids) pipe.hgetall(key(`worker:${id}`));
      return pipe.exec();
    });
    const details = results(second);
    const histogram: DurationHistogram[] = [];
    const nameStats: TaskNameStats[] = nameList.map((name, i) => {
      const hash = details[2 * i] as Record<string, string>;
      const durations = (details[2 * i + 1] as string[]).map(Number);
      const perBucket = DURATION_BUCKETS_SECONDS.map((_, b) => int(hash[`b${b}`]));
      perBucket.push(int(hash[`b${DURATION_BUCKETS_SECONDS.length}`]));
      histogram.push(cumulative(name, perBucket, int(hash.sumMs), int(hash.count)));
      return { name, counts: counts(hash), durations: summarizeDurations(durations) };
    });
    const workers: WorkerStats[] = [];
    ids.forEach((workerId, i) => {
      const hash = details[2 * nameList.length + i] as Record<string, string>;
      if (Object.keys(hash).length === 0) return;
      workers.push({
        workerId,
        processed: int(hash.processed),
        failed: int(hash.failed),
        busyMs: int(hash.busyMs),
        lastOutcomeAt: int(hash.lastOutcomeAt),
      });
    });
    return {
      totals: counts(totals as Record<string, string>),
      names: nameStats,
      workers: workers.sort((a, b) => a.workerId.localeCompare(b.workerId)),
      failures: (failures as string[]).flatMap(parseRecent),
      throughput: window.map((bucket, i) =>
        throughputOf(bucket.at, buckets[i] as Record<string, string>),
      ),
      histogram,
    };
  }

  async recentTasks(
    options: { status?: RecentTask['status']; limit?: number } = {},
  ): Promise<RecentTask[]> {
    const limit = options.limit ?? DEFAULTS.listLimit;
    const key = `${this.#prefix}recent`;
    // Without a status filter only `limit` entries are read; with one, the whole capped list.
    const entries = await this.#call(() =>
      this.#redis.lrange(key, 0, options.status === undefined ? limit - 1 : -1),
    );
    return entries
      .flatMap(parseRecent)
      .filter((t) => options.status === undefined || t.status === options.status)
      .slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await closeConnection(this.#redis);
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new YadtqError('CLOSED', 'the Redis stats are closed');
    const unavailable = (cause?: Error) =>
      new YadtqError(
        'STORE_UNAVAILABLE',
        `cannot reach Redis at ${this.#where} for stats${cause ? `: ${cause.message}` : ''}`,
        { retriable: true, cause },
      );
    if (this.#redis.status !== 'ready')
      await whenReady(this.#redis, this.#connectTimeoutMs, () => unavailable());
    try {
      return await command();
    } catch (error) {
      if ((error as Error).name === 'ReplyError') throw error;
      throw unavailable(error as Error);
    }
  }
}

type PipelineResult = [Error | null, unknown][] | null;

function results(replies: PipelineResult): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

function int(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function counts(hash: Record<string, string>): OutcomeCounts {
  const result = emptyCounts();
  for (const outcome of OUTCOMES) result[outcome] = int(hash[outcome]);
  result.cached = int(hash.cached);
  return result;
}

function throughputOf(at: number, hash: Record<string, string>): ThroughputBucket {
  const bucket = emptyBucket(at);
  for (const outcome of OUTCOMES) bucket[outcome] = int(hash[outcome]);
  return bucket;
}

function parseRecent(json: string): RecentTask[] {
  try {
    const entry = JSON.parse(json) as RecentTask;
    return typeof entry?.id === 'string' ? [entry] : [];
  } catch {
    return [];
  }
}
