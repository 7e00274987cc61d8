import type { Logger } from '../logger.ts';
import type { TaskStore } from '../store.ts';
import { Ticker } from '../ticker.ts';

/** Options of {@link CancelSweep}. */
export interface CancelSweepOptions {
  workerId: string;
  store: Pick<TaskStore, 'cancelRequested'>;
  /** How often to ask (the heartbeat interval). */
  intervalMs: number;
  /** The running tasks' cancel switches, by task id. */
  running: ReadonlyMap<string, AbortController>;
  logger: Logger;
}

/**
 * Asks the store, once per interval while tasks run, which of them had a cancel requested,
 * and fires their signals. The cancel channel (pub/sub) is the fast path; this one catches
 * what it missed: a message sent while the subscriber was reconnecting, or before the
 * claim's reply made the task one of the running ones.
 */
export class CancelSweep {
  readonly #options: CancelSweepOptions;
  readonly #ticker: Ticker;

  constructor(options: CancelSweepOptions) {
    this.#options = options;
    this.#ticker = new Ticker(options.intervalMs, () => this.sweep());
  }

  start(): void {
    this.#ticker.start();
  }

  /** One look at the running tasks. A failed look waits for the next interval. */
  async sweep(): Promise<void> {
    const { store, running, logger, workerId } = this.#options;
    if (running.size === 0) return;
    try {
      for (const id of await store.cancelRequested([...running.keys()])) {
        const controller = running.get(id);
        if (controller === undefined || controller.signal.aborted) continue;
        logger.info('cancel found by the sweep (its message was missed)', { workerId, taskId: id });
        controller.abort();
      }
    } catch (error) {
      logger.debug('cannot check for requested cancels', { workerId, error: String(error) });
    }
  }

  stop(): Promise<void> {
    return this.#ticker.stop();
  }
}
