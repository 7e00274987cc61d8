import type { Logger } from '../logger.ts';
import type { TaskStore } from '../store.ts';
import { Ticker } from '../ticker.ts';

/** Options of {@link CancelSweep}. */
export interface CancelSweepOptions {
  workerId: string;
  store: Pick<TaskStore, 'runsToStop'>;
  /** How often to ask (the heartbeat interval). */
  intervalMs: number;
  /** The running tasks' cancel switches, by task id. */
  running: ReadonlyMap<string, AbortController>;
  logger: Logger;
}

/**
 * Asks the store, once per interval while tasks run, which of them should stop, and fires
 * their signals: those whose cancel was requested, and those this worker no longer holds.
 * The cancel channel (pub/sub) is the fast path; this one catches what it missed: a
 * message sent while the subscriber was reconnecting, or before the claim's reply made the
 * task one of the running ones. A run whose claim is gone (the monitor found this worker's
 * heartbeat lapsed and requeued or ended the task, or another worker took it over) would
 * only have its outcome refused at finish: it is told to stop now instead.
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
      // The runs asked about: a later run of the same id (a retry here) is not the one told.
      const asked = new Map(running);
      for (const id of await store.runsToStop(workerId, [...asked.keys()])) {
        const controller = asked.get(id);
        if (controller === undefined || controller !== running.get(id)) continue;
        if (controller.signal.aborted) continue;
        logger.info('run stopped by the sweep (cancel requested, or the claim is gone)', {
          workerId,
          taskId: id,
        });
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
