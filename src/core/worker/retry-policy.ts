import { DEFAULTS } from '../defaults.ts';
import type { TaskDefinition } from '../define-task.ts';
import { isYadtqError } from '../errors.ts';

/** Errors that another attempt cannot fix. */
const FINAL_CODES = new Set([
  'UNKNOWN_TASK',
  'INVALID_ARGS',
  'INVALID_RESULT',
  'SANDBOX_LOAD_FAILED',
]);

/** Whether a thrown value may be retried: not a NonRetryableError, not a bad-input error. */
export function isRetryable(error: unknown): boolean {
  if ((error as { retryable?: unknown } | null)?.retryable === false) return false;
  return !(isYadtqError(error) && FINAL_CODES.has(error.code));
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
