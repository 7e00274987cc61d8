import type { Processed } from './process-delivery.ts';

/**
 * The worker's tasks in flight and its slots: a task holds a slot from its claim until its
 * steps are done (its outcome stored, its delivery settled). Counts what the tasks ended as.
 */
export class Slots {
  readonly #concurrency: number;
  /** Tasks in flight (what a stop waits for). */
  inFlight = 0;
  processed = 0;
  failed = 0;
  deadLettered = 0;
  #freed: (() => void) | null = null;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /** Slots free for new tasks, less `taken` (zombie handlers keep theirs). */
  free(taken: number): number {
    return this.#concurrency - this.inFlight - taken;
  }

  /** Counts one task in flight until `processing` settles, then frees its slot. */
  track(processing: Promise<Processed>): void {
    this.inFlight++;
    void processing.then((processed) => {
      if (processed === 'success') this.processed++;
      if (processed === 'failed') this.failed++;
      if (processed === 'dead-lettered') this.deadLettered++;
      this.inFlight--;
      this.wake();
    });
  }

  /** Resolves at the next {@link wake}: a slot may have freed, or the worker stops. */
  freed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#freed = resolve;
    });
  }

  wake(): void {
    this.#freed?.();
  }
}
