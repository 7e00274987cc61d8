import { DEFAULTS } from './defaults.ts';
import type { Logger } from './logger.ts';
import type { StatsRecorder, TaskOutcomeEvent } from './stats.ts';

/** Options of {@link StatsBatcher}. */
export interface StatsBatcherOptions {
  /** How often buffered outcomes are written. */
  flushMs: number;
  /** Buffered outcomes that trigger a write before the interval is up. */
  maxBuffered: number;
  /** Told of a write that failed (its outcomes are not written again). */
  onError(error: unknown, lost: number): void;
}

/**
 * A {@link StatsRecorder} that buffers outcomes and hands them to `target` about once a
 * second in one call (`recordMany`), so stats cost one round trip per second instead of
 * one per task. What a crash loses: the counters of the last interval, never an outcome
 * (outcomes live in the task records; stats are for monitoring).
 */
export class StatsBatcher implements StatsRecorder {
  readonly #target: StatsRecorder;
  readonly #options: StatsBatcherOptions;
  #buffer: TaskOutcomeEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing = new Set<Promise<void>>();

  constructor(target: StatsRecorder, options: StatsBatcherOptions) {
    this.#target = target;
    this.#options = options;
  }

  /** A worker's batcher: the default interval and bound, a failed write logged. */
  static forWorker(target: StatsRecorder, logger: Logger, workerId: string): StatsBatcher {
    return new StatsBatcher(target, {
      flushMs: DEFAULTS.statsFlushMs,
      maxBuffered: DEFAULTS.statsMaxBuffered,
      onError: (error, lost) =>
        logger.warn('stats not recorded', { workerId, lost, error: String(error) }),
    });
  }

  /** Buffers `event`; resolves at once (the write happens at the next flush). */
  async record(event: TaskOutcomeEvent): Promise<void> {
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#options.maxBuffered) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#options.flushMs);
  }

  /** Writes what is buffered now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    const events = this.#buffer;
    this.#buffer = [];
    const target = this.#target;
    const write = (
      target.recordMany !== undefined
        ? target.recordMany(events)
        : Promise.all(events.map((e) => target.record(e))).then(() => {})
    )
      .catch((error: unknown) => this.#options.onError(error, events.length))
      .finally(() => this.#writing.delete(write));
    this.#writing.add(write);
  }

  /** Writes what is buffered and waits for every write in progress. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.#writing);
  }
}
