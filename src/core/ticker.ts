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

  constructor(intervalMs: number, step: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#step = step;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.#step()
        .catch(() => {})
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
