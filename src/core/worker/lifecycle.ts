/** One part of a worker's start, with what undoes it at stop. */
export interface LifecycleStep {
  name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/**
 * A worker's start and stop as one ordered list of steps: {@link start} runs them in
 * order and stops at the first that throws; {@link stop} undoes the steps that started,
 * last first, whether the start completed or failed halfway. Written once, so the unwind
 * after a failed start and the stop are the same code.
 */
export class Lifecycle {
  readonly #steps: readonly LifecycleStep[];
  #started = 0;

  constructor(steps: readonly LifecycleStep[]) {
    this.#steps = steps;
  }

  /** Starts each step in order; rethrows the first failure (call {@link stop} to unwind). */
  async start(): Promise<void> {
    for (const step of this.#steps.slice(this.#started)) {
      await step.start?.();
      this.#started++;
    }
  }

  /** Stops the started steps, last first; each stop runs once. */
  async stop(): Promise<void> {
    while (this.#started > 0) {
      this.#started--;
      await this.#steps[this.#started]!.stop?.();
    }
  }

  /** The names of the steps started so far, in order. */
  started(): string[] {
    return this.#steps.slice(0, this.#started).map((step) => step.name);
  }
}
