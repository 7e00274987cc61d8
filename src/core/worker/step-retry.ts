import type { LogFields, Logger } from '../logger.ts';

/** What {@link retryStep} returns when it stopped trying: the worker halted, or the task is no longer its own. */
export const GAVE_UP = Symbol('gave up');

/** First wait after a failed step, doubled after each further failure up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;
/** A step still failing logs again after this long, so a long outage is not one line. */
const LOG_EVERY_MS = 30_000;

/** Where a step's failures and recoveries are reported. */
export interface StepReporter {
  logger: Logger;
  /** Told of each failure and success of a store or broker step (worker readiness). */
  onFailure?(): void;
  onSuccess?(): void;
}

/**
 * Runs one step of a task (a claim, a finish, a dead-letter produce) until it answers.
 * A failure is retried in place after a capped exponential backoff with jitter; only this
 * step is retried, never the ones before it. It stops with {@link GAVE_UP} when `goOn()`
 * turns false (the worker halted, or lost the delivery's partition), and never in silence:
 * the first failure and then one every 30 s are logged, and the recovery too.
 */
export async function retryStep<T>(
  what: string,
  fields: LogFields,
  step: () => Promise<T>,
  goOn: () => boolean,
  reporter: StepReporter,
): Promise<T | typeof GAVE_UP> {
  let failures = 0;
  let loggedAt = 0;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    try {
      const value = await step();
      reporter.onSuccess?.();
      if (failures > 0) {
        reporter.logger.info(`${what} succeeded after ${failures} failed tries`, fields);
      }
      return value;
    } catch (error) {
      failures++;
      reporter.onFailure?.();
      const now = Date.now();
      if (now - loggedAt >= LOG_EVERY_MS) {
        loggedAt = now;
        reporter.logger.warn(`${what} failed; retrying in place`, {
          ...fields,
          failures,
          error: String(error),
        });
      }
    }
    if (!goOn()) {
      reporter.logger.error(`${what} given up after ${failures} failed tries`, fields);
      return GAVE_UP;
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
}
