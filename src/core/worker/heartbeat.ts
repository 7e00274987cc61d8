import type { Logger } from '../logger.ts';
import type { Store, WorkerInfo } from '../store.ts';
import type { StoreHealth } from './health.ts';

/**
 * Refreshes the worker's heartbeat key every interval, carrying its counters. A failed
 * beat is logged and retried at the next tick: the key's TTL, not one beat, decides
 * whether the worker counts as alive.
 */
export class Heartbeat {
  #store: Store;
  #describe: () => WorkerInfo;
  #intervalMs: number;
  #ttlMs: number;
  #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();
  #health: Pick<StoreHealth, 'ok' | 'failed'> | undefined;

  constructor(options: {
    store: Store;
    describe: () => WorkerInfo;
    intervalMs: number;
    ttlMs: number;
    logger: Logger;
    /** Told of each beat's answer or failure (whether the store is reachable). */
    health?: Pick<StoreHealth, 'ok' | 'failed'>;
  }) {
    this.#health = options.health;
    this.#store = options.store;
    this.#describe = options.describe;
    this.#intervalMs = options.intervalMs;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#beating = this.beat();
    }, this.#intervalMs);
  }

  /** Sends one heartbeat now. */
  async beat(): Promise<void> {
    const info = this.#describe();
    try {
      await this.#store.heartbeat(info, this.#ttlMs);
      this.#health?.ok();
    } catch (error) {
      this.#health?.failed();
      this.#logger.warn('heartbeat failed', { workerId: info.id, error: String(error) });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
  }
}
