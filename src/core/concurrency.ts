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

/**
 * A definition's rate limit: at most `limit` starts in any window of `intervalMs`, fleet-
 * wide, per task name or, with `key`, per key (a sliding log: exact, no burst above it).
 */
export interface RateLimit<A = unknown> {
  /** Starts per window (a whole number ≥ 1). */
  limit: number;
  /** The window, in ms (a whole number ≥ 1). */
  intervalMs: number;
  /** The group of a task from its args, as {@link ConcurrencyLimit.key}. */
  key?(args: A): string;
}

/** What the claim step enforces for a concurrency limit: the group and its limit. */
export interface ConcurrencyGate {
  /** `limit:<name>[:<key>]`. */
  group: string;
  limit: number;
}

/** What the claim step enforces for a rate limit. */
export interface RateGate {
  /** `rate:<name>[:<key>]`. */
  group: string;
  limit: number;
  intervalMs: number;
}

/** The gates of one claim (see `TaskStore.claim`). */
export interface ClaimGates {
  concurrency?: ConcurrencyGate;
  rate?: RateGate;
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
  checkKey(name, 'concurrency', limit.key);
}

/** Checks a definition's `rateLimit` option. @throws YadtqError INVALID_OPTION */
export function checkRateLimit(name: string, value: unknown): void {
  const rate = value as Partial<RateLimit> | null;
  const valid =
    rate !== null &&
    typeof rate === 'object' &&
    positive.accepts(rate.limit) &&
    positive.accepts(rate.intervalMs);
  if (!valid) {
    throw new YadtqError(
      'INVALID_OPTION',
      `task "${name}": rateLimit must be { limit: ${positive.says}, intervalMs: ${positive.says}, key?: (args) => string }`,
    );
  }
  checkKey(name, 'rateLimit', rate.key);
}

function checkKey(name: string, option: string, key: unknown): void {
  if (key !== undefined && typeof key !== 'function')
    throw new YadtqError('INVALID_OPTION', `task "${name}": ${option}.key must be a function`);
}

/**
 * The gates of a task of `name` with `args` under its definition's limits; undefined
 * without any. A key function that throws or gives no valid key is reported to
 * `onKeyError`, and the task counts in the whole name's group, so it is still limited
 * rather than run unchecked.
 */
export function claimGates(
  name: string,
  options: { concurrency?: ConcurrencyLimit; rateLimit?: RateLimit } | undefined,
  args: unknown,
  onKeyError: (why: string) => void,
): ClaimGates | undefined {
  const { concurrency, rateLimit } = options ?? {};
  if (concurrency === undefined && rateLimit === undefined) return undefined;
  const gates: ClaimGates = {};
  if (concurrency !== undefined) {
    const group = groupOf('limit', name, concurrency.key, args, onKeyError);
    gates.concurrency = { group, limit: concurrency.limit };
  }
  if (rateLimit !== undefined) {
    const group = groupOf('rate', name, rateLimit.key, args, onKeyError);
    gates.rate = { group, limit: rateLimit.limit, intervalMs: rateLimit.intervalMs };
  }
  return gates;
}

function groupOf(
  kind: 'limit' | 'rate',
  name: string,
  key: ((args: unknown) => string) | undefined,
  args: unknown,
  onKeyError: (why: string) => void,
): string {
  if (key === undefined) return `${kind}:${name}`;
  const option = kind === 'limit' ? 'concurrency' : 'rateLimit';
  let value: unknown;
  try {
    value = key(args);
  } catch (error) {
    onKeyError(`${option}.key threw: ${String(error)}`);
    return `${kind}:${name}`;
  }
  if (!isOrderingKey(value)) {
    onKeyError(`${option}.key gave no string of 1 to ${MAX_ORDERING_KEY} characters`);
    return `${kind}:${name}`;
  }
  return `${kind}:${name}:${value}`;
}
