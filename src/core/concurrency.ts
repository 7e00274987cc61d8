import { isOrderingKey, MAX_ORDERING_KEY } from './envelope.ts';
import { YadtqError } from './errors.ts';
import { positive } from './options.ts';

/**
 * A definition's concurrency limit: at most `limit` of its tasks running at once across
 * the fleet, or, with `key`, at most `limit` per key (e.g. per tenant). A task over its
 * limit is parked in the store and handed on when a running one of its group stops.
 */
export interface ConcurrencyLimit<A = unknown> {
  /** Tasks of one group running at once, fleet-wide (a whole number ≥ 1). */
  limit: number;
  /**
   * The group of a task from its args (1 to 1,000 characters), computed by the worker at
   * each claim; without it the whole task name is one group.
   */
  key?(args: A): string;
}

/** What the claim step enforces: the group (`limit:<name>[:<key>]`) and its limit. */
export interface ConcurrencyGate {
  group: string;
  limit: number;
}

/** Checks a definition's `concurrency` option. @throws YadtqError INVALID_OPTION */
export function checkConcurrency(name: string, value: unknown): void {
  const limit = value as Partial<ConcurrencyLimit> | null;
  if (limit === null || typeof limit !== 'object' || !positive.accepts(limit.limit)) {
    throw new YadtqError(
      'INVALID_OPTION',
      `task "${name}": concurrency must be { limit: ${positive.says}, key?: (args) => string }`,
    );
  }
  if (limit.key !== undefined && typeof limit.key !== 'function')
    throw new YadtqError('INVALID_OPTION', `task "${name}": concurrency.key must be a function`);
}

/**
 * The gate of a task of `name` with `args` under `limit`; undefined without a limit. A key
 * function that throws or gives no valid key is reported to `onKeyError`, and the task
 * counts in the whole name's group, so it is still limited rather than run unchecked.
 */
export function concurrencyGate(
  name: string,
  limit: ConcurrencyLimit | undefined,
  args: unknown,
  onKeyError: (why: string) => void,
): ConcurrencyGate | undefined {
  if (limit === undefined) return undefined;
  if (limit.key === undefined) return { group: `limit:${name}`, limit: limit.limit };
  let key: unknown;
  try {
    key = limit.key(args);
  } catch (error) {
    onKeyError(`concurrency.key threw: ${String(error)}`);
    return { group: `limit:${name}`, limit: limit.limit };
  }
  if (!isOrderingKey(key)) {
    onKeyError(`concurrency.key gave no string of 1 to ${MAX_ORDERING_KEY} characters`);
    return { group: `limit:${name}`, limit: limit.limit };
  }
  return { group: `limit:${name}:${key}`, limit: limit.limit };
}
