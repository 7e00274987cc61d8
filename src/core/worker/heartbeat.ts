import type { Logger } from '../logger.ts';
import type { WorkerInfo, WorkerRegistry } from '../store.ts';
import { Ticker } from '../ticker.ts';
import type { StoreHealth } from './health.ts';
import { LoopClock } from './loop-clock.ts';
import { offersWatchdog, type Watchdog } from './watchdog.ts';

/** How often the main loop marks that it runs, for the watchdog. */
const TICK_MS = 100;

/**
 * Refreshes the worker's heartbeat key every interval, carrying its counters. Where the
 * store offers a watchdog (Redis), the beats come from a thread of its own, so a handler
 * that keeps the event loop busy within its time limit does not make the worker look
 * dead, and a loop hung past every limit ends the process (see `WatchdogStore`); the main
 * loop then only hands over fresh counters. Otherwise the beats are sent from the loop.
 * A failed beat is logged and retried at the next tick: the key's TTL, not one beat,
 * decides whether the worker counts as alive.
 */
export class Heartbeat {
  #registry: Pick<WorkerRegistry, 'heartbeat'>;
  #describe: () => WorkerInfo;
  #intervalMs: number;
  #ttlMs: number;
  #logger: Logger;
  #watch: boolean;
  /** Each interval: hand fresh counters to the watchdog, or beat from the loop. */
  readonly #ticker: Ticker;
  #watchdog: Watchdog | undefined;
  /** Kept current by the main loop; the worker reports in-loop handler runs to it. */
  readonly clock: LoopClock;
  #health: Pick<StoreHealth, 'ok' | 'failed'> | undefined;

  constructor(options: {
    /** Where beats go; one that offers a watchdog (`WatchdogStore`) beats from a thread. */
    registry: Pick<WorkerRegistry, 'heartbeat'>;
    describe: () => WorkerInfo;
    intervalMs: number;
    ttlMs: number;
    /** How long past every running handler's deadline a stuck loop counts as hung. */
    hungLoopMarginMs: number;
    /** False: always beat from the main loop. */
    watchdog: boolean;
    logger: Logger;
    /** Told of each beat's answer or failure (whether the store is reachable). */
    health?: Pick<StoreHealth, 'ok' | 'failed'>;
  }) {
    this.#health = options.health;
    this.#registry = options.registry;
    this.#describe = options.describe;
    this.#intervalMs = options.intervalMs;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#watch = options.watchdog;
    this.clock = new LoopClock(options.hungLoopMarginMs);
    // A beat still waiting for Redis when the next is due is not doubled: one at a time.
    this.#ticker = new Ticker(this.#intervalMs, async () => {
      if (this.#watchdog) this.#watchdog.publish(this.#describe());
      else await this.beat();
    });
  }

  start(): void {
    if (this.#watch && offersWatchdog(this.#registry)) {
      this.clock.start(TICK_MS);
      this.#watchdog = this.#registry.startWatchdog({
        info: this.#describe(),
        intervalMs: this.#intervalMs,
        ttlMs: this.#ttlMs,
        clock: this.clock.buffer,
        onBeat: (error) => this.#beaten(error),
        onFailure: (error) => this.#fallBack(error),
      });
    }
    this.#ticker.start();
  }

  /** Whether the beats come from a watchdog thread. */
  get offLoop(): boolean {
    return this.#watchdog !== undefined;
  }

  /** Sends one heartbeat now, from the main loop. */
  async beat(): Promise<void> {
    const info = this.#describe();
    try {
      await this.#registry.heartbeat(info, this.#ttlMs);
      this.#health?.ok();
    } catch (error) {
      this.#health?.failed();
      this.#logger.warn('heartbeat failed', { workerId: info.id, error: String(error) });
    }
  }

  async stop(): Promise<void> {
    await this.#ticker.stop();
    this.clock.stop();
    await this.#watchdog?.stop();
    this.#watchdog = undefined;
  }

  #beaten(error: string | undefined): void {
    if (error === undefined) {
      this.#health?.ok();
      return;
    }
    this.#health?.failed();
    this.#logger.warn('heartbeat failed', { workerId: this.#describe().id, error });
  }

  #fallBack(error: Error): void {
    this.#logger.error('heartbeat watchdog failed: beating from the event loop', {
      error: String(error),
    });
    this.#watchdog = undefined;
    this.clock.stop();
  }
}
