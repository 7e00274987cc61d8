/**
 * Runs `step` every `intervalMs`, never two at once: a tick that comes while the previous
 * step still runs is skipped, not queued. `stop()` ends the ticks and waits for a step in
 * progress. The periodic parts of a worker (heartbeat, monitor, recovery poll, cancel
 * sweep) share it.
 */
export class Ticker {
  readonly #intervalMs: number;
  readonly #step: () => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Asked for by {@link runNow} while a step ran: one more step right after it. */
  #again = false;

  constructor(intervalMs: number, step: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#step = step;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#running === undefined) this.#run();
    }, this.#intervalMs);
  }

  /** Runs the step now, between ticks (while one runs: once more right after it). */
  runNow(): void {
    if (this.#timer === undefined) return;
    if (this.#running !== undefined) this.#again = true;
    else this.#run();
  }

  #run(): void {
    this.#running = this.#step()
      .catch(() => {})
      .finally(() => {
        this.#running = undefined;
        if (this.#again && this.#timer !== undefined) {
          this.#again = false;
          this.#run();
        }
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
