import type { Redis, RedisOptions } from 'ioredis';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';

/** Options of {@link RedisStore}. Every one is optional. */
export interface RedisStoreOptions {
  /**
   * Where Redis is: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS.
   * Ignored when `client` is given.
   * @defaultValue `DEFAULTS.redisUrl` (`redis://localhost:6379`)
   */
  url?: string;
  /**
   * Prepended to every key and to the events channel, so several queues can share a
   * Redis. Use it instead of ioredis' `keyPrefix`, which the Lua scripts cannot see.
   * @defaultValue `DEFAULTS.prefix` (`yadtq:`)
   */
  prefix?: string;
  /**
   * How long a finished (terminal) record is kept, in ms; also how long a worker that
   * stopped heartbeating stays listed.
   * @defaultValue `DEFAULTS.retentionMs` (24 h)
   */
  retentionMs?: number;
  /**
   * How long a queued or processing record, and its dedup key, is kept at most, in ms.
   * @defaultValue `DEFAULTS.pendingTtlMs` (7 days)
   */
  pendingTtlMs?: number;
  /**
   * How long a command waits for a connection before failing with `STORE_UNAVAILABLE`.
   * @defaultValue `DEFAULTS.connectTimeoutMs` (10 s)
   */
  connectTimeoutMs?: number;
  /**
   * More ioredis options, passed straight through (`username`, `password`, `tls`, `db`,
   * …). `keyPrefix` is refused: use `prefix`.
   * @defaultValue `{}`
   */
  redis?: RedisOptions;
  /**
   * An ioredis connection to use instead of opening one from `url` (and `redis`). The
   * store leaves it open on `close()`; it must not have a `keyPrefix`.
   */
  client?: Redis;
}

/** {@link RedisStoreOptions} with defaults filled in and checked. */
export interface ResolvedRedisStoreOptions {
  url: string;
  prefix: string;
  retentionMs: number;
  pendingTtlMs: number;
  connectTimeoutMs: number;
  redis: RedisOptions;
  client: Redis | null;
}

/**
 * Fills in defaults and checks every option.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export function resolveRedisStoreOptions(
  options: RedisStoreOptions = {},
): ResolvedRedisStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid('options', 'must be an object');
  }
  const { client = null, redis = {} } = options;
  if (client !== null && !isRedisClient(client)) {
    throw invalid('client', 'must be an ioredis Redis instance');
  }
  if (client?.options.keyPrefix) {
    throw invalid(
      'client',
      'must not have a keyPrefix (the Lua scripts cannot see it): use "prefix"',
    );
  }
  if (redis === null || typeof redis !== 'object' || Array.isArray(redis)) {
    throw invalid('redis', 'must be an object of ioredis options');
  }
  if (redis.keyPrefix !== undefined) {
    throw invalid(
      'redis.keyPrefix',
      'is not supported (the Lua scripts cannot see it): use "prefix"',
    );
  }
  const url = options.url ?? DEFAULTS.redisUrl;
  if (typeof url !== 'string' || !/^rediss?:$/.test(parseProtocol(url))) {
    throw invalid('url', `must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw invalid('prefix', `must be a non-empty string, got ${JSON.stringify(prefix)}`);
  }
  return {
    url,
    prefix,
    retentionMs: positiveInteger('retentionMs', options.retentionMs, DEFAULTS.retentionMs),
    pendingTtlMs: positiveInteger('pendingTtlMs', options.pendingTtlMs, DEFAULTS.pendingTtlMs),
    connectTimeoutMs: positiveInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULTS.connectTimeoutMs,
    ),
    redis,
    client,
  };
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(name, `must be a whole number of milliseconds > 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

function isRedisClient(value: unknown): value is Redis {
  const client = value as Partial<Redis>;
  return (
    typeof client?.defineCommand === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.options === 'object'
  );
}

function invalid(option: string, why: string): YadtqError {
  return new YadtqError('INVALID_OPTION', `invalid Redis store option "${option}": ${why}`);
}
