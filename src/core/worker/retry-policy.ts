import { DEFAULTS } from '../defaults.ts';
import type { TaskDefinition } from '../define-task.ts';

/**
 * Whether a thrown value may be retried: unless it says `retriable: false` (every
 * {@link YadtqError} says whether it is, by its code, see `ERROR_CODES`;
 * `NonRetryableError` is not) or, in the older spelling, `retryable: false`. Anything
 * else a handler throws is retried while attempts are left.
 */
export function isRetriable(error: unknown): boolean {
  const flags = error as { retriable?: unknown; retryable?: unknown } | null | undefined;
  return flags?.retriable !== false && flags?.retryable !== false;
}

/**
 * The delay before attempt `failedAttempt + 1`: exponential (base × 2^(n−1), capped) with
 * "equal jitter" — half fixed, half random — so retries of many tasks spread out.
 */
export function backoffDelay(
  failedAttempt: number,
  definition: TaskDefinition | undefined,
  random = Math.random,
): number {
  const base = definition?.options.backoffMs ?? DEFAULTS.backoffMs;
  const cap = definition?.options.backoffMaxMs ?? DEFAULTS.backoffMaxMs;
  const exponential = Math.min(cap, base * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
