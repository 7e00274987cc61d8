import { type BaseOptions, findErrorBy } from '@platformatic/kafka';
import { YadtqError } from '../core/errors.ts';
import type { ResolvedKafkaBrokerOptions } from './options.ts';

/** Retries of one Kafka operation before it fails (about 15 s with {@link retryDelay}). */
const RETRIES = 10;

/** Backs off 200 ms, 400 ms, … up to 2 s between retries, so a broker restart is ridden out. */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(100 * 2 ** attempt, 2000);
}

/** Options every platformatic client of one broker shares. */
export function clientOptions(options: ResolvedKafkaBrokerOptions, clientId: string): BaseOptions {
  const base: BaseOptions = {
    clientId,
    bootstrapBrokers: options.brokers,
    connectTimeout: Math.min(options.connectTimeoutMs, 5000),
    retries: RETRIES,
    retryDelay,
  };
  if (options.tls !== undefined) base.tls = options.tls;
  if (options.sasl !== undefined) base.sasl = options.sasl;
  return base;
}

/**
 * Settles like `work`, or rejects with `BROKER_UNAVAILABLE` once `ms` have passed (then
 * `onTimeout` runs, to stop the client that is still retrying).
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => unknown,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new YadtqError('BROKER_UNAVAILABLE', `${what} (no answer within ${ms} ms)`, {
          retriable: true,
        }),
      );
      Promise.resolve()
        .then(onTimeout)
        .catch(() => {});
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tries of a read (lag, dead letters) before it fails; each after the metadata is dropped. */
export const READ_ATTEMPTS = 5;
/** Retries of the Kafka client inside one try of a read (200, 400, 800 ms apart). */
export const READ_CLIENT_RETRIES = 3;

/**
 * Runs `work`, and again (up to {@link READ_ATTEMPTS} in all) after a retriable failure
 * with the client's metadata dropped: a read that met a leader lost with its broker asks
 * again where the partitions are. Bound it with {@link withDeadline}.
 */
export async function withFreshMetadata<T>(
  client: { clearMetadata(): void },
  work: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= READ_ATTEMPTS || !toYadtqError(error, 'read').retriable) throw error;
      client.clearMetadata();
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** Waits for `work` to settle, but no longer than `ms`; never rejects. */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.catch(() => {}), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns a platformatic error into a {@link YadtqError}; YadtqErrors pass through. */
export function toYadtqError(error: unknown, what: string): YadtqError {
  if (error instanceof YadtqError) return error;
  const cause = error instanceof Error ? error : new Error(String(error));
  const detail = deepestMessage(cause);
  if (findErrorBy(cause, 'code', 'PLT_KFK_AUTHENTICATION')) {
    // Trying again with the same credentials cannot help.
    return new YadtqError('BROKER_UNAVAILABLE', `${what}: authentication failed (${detail})`, {
      cause,
      retriable: false,
    });
  }
  for (const apiId of ['INVALID_REPLICATION_FACTOR', 'INVALID_PARTITIONS']) {
    if (findErrorBy(cause, 'apiId', apiId)) {
      return new YadtqError('INVALID_OPTION', `Kafka refused the topic settings: ${detail}`, {
        cause,
      });
    }
  }
  const hint = LEADER_HINTS.find(([apiId]) => findErrorBy(cause, 'apiId', apiId))?.[1];
  const text = hint === undefined ? detail : `${hint} (${detail})`;
  return new YadtqError('BROKER_UNAVAILABLE', `${what}: ${text}`, { cause, retriable: true });
}

/** What a Kafka error met while a broker of a cluster is down means for the caller. */
const LEADER_HINTS: ReadonlyArray<readonly [string, string]> = [
  [
    'NOT_ENOUGH_REPLICAS',
    "fewer replicas are in sync than the topic's min.insync.replicas (brokers are down); try again once they are back",
  ],
  [
    'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    "fewer replicas are in sync than the topic's min.insync.replicas (brokers are down); try again once they are back",
  ],
  [
    'NOT_LEADER_OR_FOLLOWER',
    "the partition's leader moved (a broker was lost) and no new leader answered in time; try again",
  ],
  [
    'LEADER_NOT_AVAILABLE',
    'the partition has no leader right now (a broker was lost, an election is under way); try again',
  ],
];

/** The innermost message of an error chain: the one that names what really went wrong. */
function deepestMessage(error: Error): string {
  let current: Error = error;
  for (let depth = 0; depth < 10; depth++) {
    const inner =
      current instanceof AggregateError && current.errors.length > 0
        ? current.errors[current.errors.length - 1]
        : current.cause;
    if (!(inner instanceof Error)) break;
    current = inner;
  }
  return current.message;
}
