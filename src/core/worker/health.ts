import type { Logger } from '../logger.ts';

/** What a supervisor or a Kubernetes probe asks of a worker. */
export interface WorkerHealthReport {
  /** The worker's loop runs (false once stopped, or when consuming ended on an error). */
  live: boolean;
  /** It takes work now: running, subscribed, and its store answered within the bound. */
  ready: boolean;
  /** The store (Redis) answered a heartbeat or a task step within `boundMs`. */
  storeReachable: boolean;
  /** Why it is not live or not ready, in words; empty when both hold. */
  reasons: string[];
}

/**
 * Tracks whether the worker's store answers, judged by its heartbeat: when no beat
 * succeeded for `boundMs` (the heartbeat TTL: by then the fleet takes this worker for
 * dead) it is unreachable, said once in the log, and the worker stops fetching until a
 * beat succeeds again. Only a beat counts: a claim that succeeds while the heartbeat key
 * is gone would take a task the reaper can take away again.
 */
export class StoreHealth {
  readonly #boundMs: number;
  readonly #logger: Logger;
  readonly #workerId: string;
  #lastOkAt = Date.now();
  #failingSince: number | undefined;
  #reportedDown = false;

  constructor(options: { boundMs: number; logger: Logger; workerId: string }) {
    this.#boundMs = options.boundMs;
    this.#logger = options.logger;
    this.#workerId = options.workerId;
  }

  /** A heartbeat was stored. */
  ok(): void {
    const now = Date.now();
    this.#lastOkAt = now;
    if (this.#reportedDown) {
      this.#reportedDown = false;
      this.#logger.info('the store answers again: fetching resumes', {
        workerId: this.#workerId,
        downMs: now - (this.#failingSince ?? now),
      });
    }
    this.#failingSince = undefined;
  }

  /** A store call failed (or timed out). */
  failed(): void {
    this.#failingSince ??= Date.now();
  }

  /** Whether the store answered within the bound; logs the change to unreachable once. */
  reachable(now = Date.now()): boolean {
    const silentMs = now - this.#lastOkAt;
    if (silentMs <= this.#boundMs) return true;
    if (!this.#reportedDown) {
      this.#reportedDown = true;
      this.#failingSince ??= this.#lastOkAt;
      this.#logger.error('the store has not answered: fetching paused until it does', {
        workerId: this.#workerId,
        silentMs,
        boundMs: this.#boundMs,
      });
    }
    return false;
  }

  /** Resolves once the store is reachable (checked every `pollMs`) or `stopped()` holds. */
  async whenReachable(stopped: () => boolean, pollMs = 100): Promise<void> {
    while (!this.reachable() && !stopped()) await new Promise((r) => setTimeout(r, pollMs));
  }
}
