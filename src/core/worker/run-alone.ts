/**
 * Poison isolation: a task whose next worker loss would end it (losses ≥ maxWorkerLosses
 * − 1) runs alone on its worker, so if it kills the process it takes no other task with
 * it. While such a task waits or runs, the worker takes no new task ({@link closed}); it
 * starts once every other task the worker holds has finished, one such task at a time.
 * A worker holding other tasks does not even claim it (the claim is refused `run-alone`,
 * see {@link loneLosses}): it waits unclaimed, so a killer running ahead of it here does
 * not count a loss on it. Other recovered tasks run as usual.
 */
export class RunAlone {
  readonly #maxLosses: number;
  #waiting = 0;
  #turn: Promise<void> = Promise.resolve();

  /** @param maxLosses the monitor's `maxWorkerLosses`: the loss that ends a task. */
  constructor(maxLosses: number) {
    this.#maxLosses = maxLosses;
  }

  /** Losses from which a task must run alone: what a busy worker's claim refuses. */
  get loneLosses(): number {
    return this.#maxLosses - 1;
  }

  /** Whether a task with `losses` must run alone. */
  needs(losses: number): boolean {
    return losses >= this.loneLosses;
  }

  /** True while a task waits to run alone or runs: the worker takes no new task. */
  get closed(): boolean {
    return this.#waiting > 0;
  }

  /**
   * Closes the worker to new tasks and resolves once `others()` (the tasks the worker
   * holds besides the ones waiting here) is 0 and every earlier lone task is done, with
   * the function that ends this task's turn (call it exactly once).
   */
  async enter(others: () => number): Promise<() => void> {
    this.#waiting++;
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => {
      done = resolve;
    });
    const leave = () => {
      this.#waiting--;
      done();
    };
    try {
      await previous;
      while (others() - (this.#waiting - 1) > 0) await new Promise((r) => setTimeout(r, 20));
    } catch (error) {
      leave();
      throw error;
    }
    return leave;
  }

  /** Runs `work` alone ({@link enter}), then ends its turn. */
  async run<T>(others: () => number, work: () => Promise<T>): Promise<T> {
    const leave = await this.enter(others);
    try {
      return await work();
    } finally {
      leave();
    }
  }
}
