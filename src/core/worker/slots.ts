import type { Processed } from './process-delivery.ts';

/**
 * The worker's tasks in flight and its slots. A task is in flight from its claim until
 * its steps are done (its outcome stored, its delivery settled); it holds a slot only
 * until its handler has run (`ran`), so a finish waiting for the store does not keep the
 * next task from starting. Counts what the tasks ended as.
 */
export class Slots {
  readonly #concurrency: number;
  /** Tasks in flight (what a stop waits for). */
  inFlight = 0;
  /** Tasks holding a slot: claiming or running. */
  holding = 0;
  processed = 0;
  failed = 0;
  deadLettered = 0;
  #freed: (() => void) | null = null;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /**
   * Slots free for new tasks, less `taken` (zombie handlers keep theirs). Outcomes being
   * stored hold no slot, but at most as many as the concurrency wait so: past that, a
   * store that is slow to take outcomes holds the intake back too.
   */
  free(taken: number): number {
    const c = this.#concurrency;
    return Math.min(c - this.holding, 2 * c - this.inFlight) - taken;
  }

  /** Runs one task; `process` calls `ran` once its handler has ended. */
  track(process: (ran: () => void) => Promise<Processed>): void {
    this.inFlight++;
    this.holding++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.holding--;
      this.wake();
    };
    void process(release).then((processed) => {
      if (processed === 'success') this.processed++;
      if (processed === 'failed') this.failed++;
      if (processed === 'dead-lettered') this.deadLettered++;
      this.inFlight--;
      release();
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
