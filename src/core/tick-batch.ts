interface Waiting<I, O> {
  item: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/**
 * Gathers the calls made in one turn of the event loop and makes them one batch call:
 * `add()` queues an item, and on the next turn (`setImmediate`) every item queued so far
 * goes to `run` together, in the order added, at most `maxBatch` per call. The window is
 * that one turn: a lone call waits for nothing but the end of the current turn, and the
 * steps of tasks that start or end together (one fetch, handlers that end at once) share
 * a call. A failed call rejects each of its items with the error.
 */
export class TickBatch<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  #waiting: Waiting<I, O>[] = [];
  #scheduled = false;

  constructor(run: (items: I[]) => Promise<O[]>, maxBatch: number) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let at = 0; at < waiting.length; at += this.#maxBatch) {
      void this.#call(waiting.slice(at, at + this.#maxBatch));
    }
  }

  async #call(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.#run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        w.resolve(outputs[i]!);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
