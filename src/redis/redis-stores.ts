import type { Stores } from '../core/store.ts';
import type { RedisStoreOptions } from './options.ts';
import { resolveRedisStoreOptions } from './options.ts';
import { RedisConnection } from './redis-connection.ts';
import { RedisMonitor } from './redis-monitor.ts';
import { RedisTaskStore } from './redis-task-store.ts';
import { RedisWorkers } from './redis-workers.ts';

/**
 * The three Redis store contracts on one command connection (plus a pub/sub connection
 * opened on first use): `store` (task state), `registry` (workers and heartbeats) and
 * `monitorStore` (the leader lock, held sets, the scheduled and recovering sets).
 * Pass them on whole — `new TaskWorker({ broker, ...stores, … })` — or one at a time.
 */
export class RedisStores implements Stores {
  readonly store: RedisTaskStore;
  readonly registry: RedisWorkers;
  readonly monitorStore: RedisMonitor;
  /** The shared connection (the backend's stats write through it too). */
  readonly connection: RedisConnection;

  /**
   * Connects in the background: an unreachable server fails the first command with
   * STORE_UNAVAILABLE, never the constructor.
   * @throws YadtqError INVALID_OPTION naming a bad option.
   */
  constructor(options: RedisStoreOptions = {}) {
    this.connection = new RedisConnection(resolveRedisStoreOptions(options));
    this.store = new RedisTaskStore(this.connection);
    this.registry = new RedisWorkers(this.connection);
    this.monitorStore = new RedisMonitor(this.connection);
  }

  /** Closes the connections these stores opened (never a `client` they were given). */
  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.connection.close()]);
  }
}
