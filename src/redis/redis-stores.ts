import type { PauseControl } from '../core/pause.ts';
import type { ReplayLedger } from '../core/replay-ledger.ts';
import type { ScheduleStore } from '../core/schedule/schedule.ts';
import type { MonitorStore, Stores, TaskStore, WorkerRegistry } from '../core/store.ts';
import type { WatchdogStore } from '../core/worker/watchdog.ts';
import type { RedisClient, RedisStoreOptions } from './options.ts';
import { resolveRedisStoreOptions } from './options.ts';
import { RedisConnection } from './redis-connection.ts';
import { RedisMonitor } from './redis-monitor.ts';
import { RedisPauses } from './redis-pauses.ts';
import { RedisReplays } from './redis-replays.ts';
import { RedisSchedules } from './redis-schedules.ts';
import { RedisTaskStore } from './redis-task-store.ts';
import { RedisWorkers } from './redis-workers.ts';

/**
 * The three Redis store contracts on one command connection (plus a pub/sub connection
 * opened on first use): `store` (task state), `registry` (workers and heartbeats) and
 * `monitorStore` (the leader lock, held sets, the scheduled and recovering sets).
 * Pass them on whole — `new TaskWorker({ broker, ...stores, … })` — or one at a time.
 */
export class RedisStores implements Stores {
  // Typed as the contracts, so the declarations users compile read no driver types.
  readonly store: TaskStore & { close(): Promise<void> };
  readonly registry: WorkerRegistry & WatchdogStore;
  readonly monitorStore: MonitorStore;
  /** The schedules the monitor leader fires (`<prefix>schedules`, no TTL). */
  readonly schedules: ScheduleStore;
  /** Paused task names (`<prefix>paused`), read by the claim step. */
  readonly pauses: PauseControl;
  /** Which dead-letter entries were replayed (`replayDeadLetters`). */
  readonly replays: ReplayLedger;
  /** The shared command connection (the backend's stats write through it too). */
  readonly client: RedisClient;
  readonly #connection: RedisConnection;

  /**
   * Connects in the background: an unreachable server fails the first command with
   * STORE_UNAVAILABLE, never the constructor.
   * @throws YadtqError INVALID_OPTION naming a bad option.
   */
  constructor(options: RedisStoreOptions = {}) {
    const connection = new RedisConnection(resolveRedisStoreOptions(options));
    this.#connection = connection;
    this.client = connection.redis;
    this.store = new RedisTaskStore(connection);
    this.registry = new RedisWorkers(connection);
    this.monitorStore = new RedisMonitor(connection);
    this.schedules = new RedisSchedules(connection);
    this.pauses = new RedisPauses(connection);
    this.replays = new RedisReplays(connection);
  }

  /** Closes the connections these stores opened (never a `client` they were given). */
  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.#connection.close()]);
  }
}
