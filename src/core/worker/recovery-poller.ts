import type { Logger } from '../logger.ts';
import type { MonitorStore } from '../store.ts';
import type { TaskRecord } from '../task-record.ts';
import { Ticker } from '../ticker.ts';

/** Options of {@link RecoveryPoller}. */
export interface RecoveryPollerOptions {
  workerId: string;
  store: Pick<MonitorStore, 'takeRecovered'>;
  /** How often to look for recovered tasks. */
  intervalMs: number;
  /** How long a taken task is offered to no one else. */
  leaseMs: number;
  /** Tasks the worker can start now (0 when full or stopping). */
  freeSlots(): number;
  /** Starts one taken task (the claim step still decides whether it runs). */
  run(record: TaskRecord): void;
  logger: Logger;
}

/**
 * Takes tasks the reaper recovered from dead workers, and parked tasks whose turn came in
 * their ordering lane, straight from the store, while the worker has free slots. They are also produced to the task log again, but the log can be
 * down, or put them on a partition whose owner has just died too; this path needs only
 * Redis, so a killed worker's tasks finish elsewhere within seconds either way.
 */
export class RecoveryPoller {
  readonly #options: RecoveryPollerOptions;
  readonly #ticker: Ticker;
  #failing = false;
  /** A task was offered (see {@link wake}) that no look with free slots has taken up yet. */
  #offered = false;
  #looking: Promise<void> | undefined;

  constructor(options: RecoveryPollerOptions) {
    this.#options = options;
    this.#ticker = new Ticker(options.intervalMs, () => this.poll());
  }

  start(): void {
    this.#ticker.start();
  }

  /**
   * Looks now, not at the next interval: a task was offered (a parked task's turn came, a
   * high-priority task was produced: see `TaskStore.onTurn`). Until a look with free slots
   * answers it, {@link offered} tells the consume loop to look before its next delivery.
   */
  wake(): void {
    this.#offered = true;
    this.#ticker.runNow();
  }

  /** Whether an offer came that no look with free slots has taken up yet. */
  get offered(): boolean {
    return this.#offered;
  }

  /** One look (a look in progress is shared, never two at once). */
  poll(): Promise<void> {
    this.#looking ??= this.#look().finally(() => {
      this.#looking = undefined;
    });
    return this.#looking;
  }

  /** Takes up to the free slots' worth of offered tasks and starts them. */
  async #look(): Promise<void> {
    const { store, freeSlots, run, leaseMs, logger, workerId } = this.#options;
    const free = freeSlots();
    if (free <= 0) return;
    this.#offered = false;
    try {
      const records = await store.takeRecovered(Date.now(), free, leaseMs);
      this.#failing = false;
      for (const record of records) {
        const fields = { workerId, taskId: record.id, task: record.name };
        // A lost one has a loss on its record; a lane's next task, as a rule, none.
        if (record.losses > 0) logger.info('running a task recovered from a dead worker', fields);
        else logger.debug('running a task handed on by its lane', fields);
        run(record);
      }
    } catch (error) {
      // Said once per outage, not every interval.
      if (!this.#failing) {
        logger.warn('cannot look for recovered tasks', { workerId, error: String(error) });
      }
      this.#failing = true;
    }
  }

  stop(): Promise<void> {
    return this.#ticker.stop();
  }
}
