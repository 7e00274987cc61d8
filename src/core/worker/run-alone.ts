/**
 * Poison isolation: a task whose next worker loss would end it (losses ≥ maxWorkerLosses
 * − 1) runs alone on its worker, so if it kills the process it takes no other task with
 * it. While such a task waits or runs, the worker takes no new task ({@link closed}); it
 * starts once every other task the worker holds has finished, one such task at a time.
 * Other recovered tasks run as usual.
 */
export class RunAlone {
  readonly #maxLosses: number;
  #waiting = 0;
  #turn: Promise<void> = Promise.resolve();

  /** @param maxLosses the monitor's `maxWorkerLosses`: the loss that ends a task. */
  constructor(maxLosses: number) {
    this.#maxLosses = maxLosses;
  }

  /** Whether a task with `losses` must run alone. */
  needs(losses: number): boolean {
    return losses >= this.#maxLosses - 1;
  }

  /** True while a task waits to run alone or runs: the worker takes no new task. */
  get closed(): boolean {
    return this.#waiting > 0;
  }

  /**
   * Runs `work` once `others()` (the tasks the worker holds besides the ones waiting
   * here) is 0 and every earlier lone task is done.
   */
  async run<T>(others: () => number, work: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => {
      done = resolve;
    });
    try {
      await previous;
      while (others() - (this.#waiting - 1) > 0) await new Promise((r) => setTimeout(r, 20));
      return await work();
    } finally {
      this.#waiting--;
      done();
    }
  }
}
