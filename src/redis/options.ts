import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import { check, nonEmpty, object, optional, positive, redisUrl, rule } from '../core/options.ts';

/**
 * The ioredis connection options yadtq names, as its own type so that a user's strict
 * build needs no driver types. Each one is handed to ioredis as it is. For an ioredis
 * option not named here, type the object as `RedisDriverOptions` from `yadtq/drivers`
 * (ioredis' own `RedisOptions`) and pass that: every field still goes through.
 */
export interface RedisConnectionOptions {
  /** ACL user name (Redis 6+); overrides the URL's. */
  username?: string | undefined;
  /** Password; overrides the URL's. */
  password?: string | undefined;
  /** Database number; overrides the URL's path. */
  db?: number | undefined;
  /** TLS options (also switched on by a `rediss://` URL). */
  tls?: TlsOptions | undefined;
  /** Name shown by `CLIENT LIST`. */
  connectionName?: string | undefined;
  /** IP family to connect over: 4, 6, or 0 for either. */
  family?: number | undefined;
  /** TCP keep-alive initial delay in ms; 0 turns it off. */
  keepAlive?: number | undefined;
  /** TCP_NODELAY (Nagle off). */
  noDelay?: boolean | undefined;
  /** Sentinels to ask for the master named `name` (then the URL's host is not used). */
  sentinels?: Array<{ host?: string; port?: number; family?: number }> | undefined;
  /** The master group name the sentinels know. */
  name?: string | undefined;
  /** Connect to the `'master'` (default) or a `'slave'` of the group. */
  role?: 'master' | 'slave' | undefined;
  /** ACL user name for the sentinels. */
  sentinelUsername?: string | undefined;
  /** Password for the sentinels. */
  sentinelPassword?: string | undefined;
  /** Use TLS towards the sentinels too. */
  enableTLSForSentinelMode?: boolean | undefined;
  /** TLS options towards the sentinels. */
  sentinelTLS?: TlsOptions | undefined;
}

/**
 * What the store needs of a connection it is given: an ioredis `Redis` instance (checked
 * when the store is constructed). The full driver type is `RedisDriverClient` from
 * `yadtq/drivers`.
 */
export interface RedisClient {
  readonly options: {
    readonly keyPrefix?: string | undefined;
    readonly host?: string | undefined;
    readonly port?: number | undefined;
  };
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  duplicate(...overrides: never[]): unknown;
}

/** Options of `RedisStores`. Every one is optional. */
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
  redis?: RedisConnectionOptions;
  /**
   * An ioredis connection to use instead of opening one from `url` (and `redis`). The
   * store leaves it open on `close()`; it must not have a `keyPrefix`.
   */
  client?: RedisClient;
}

/** {@link RedisStoreOptions} with defaults filled in and checked. */
export interface ResolvedRedisStoreOptions {
  url: string;
  prefix: string;
  retentionMs: number;
  pendingTtlMs: number;
  connectTimeoutMs: number;
  redis: RedisConnectionOptions;
  client: RedisClient | null;
}

const REDIS_CLIENT = rule<RedisClient>('an ioredis Redis instance', (v) => {
  const client = v as Partial<RedisClient> | null;
  return (
    typeof client?.defineCommand === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.options === 'object'
  );
});
const NO_KEY_PREFIX = 'the Lua scripts cannot see it: use "prefix"';

/**
 * Fills in defaults and checks every option.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export function resolveRedisStoreOptions(
  options: RedisStoreOptions = {},
): ResolvedRedisStoreOptions {
  check('Redis store options', options, object);
  const client =
    options.client === undefined ? null : check(label('client'), options.client, REDIS_CLIENT);
  if (client?.options.keyPrefix) {
    throw new YadtqError(
      'INVALID_OPTION',
      `${label('client')} must not have a keyPrefix (${NO_KEY_PREFIX})`,
    );
  }
  const redis = optional(label('redis'), options.redis, object, {}) as RedisConnectionOptions;
  if ((redis as { keyPrefix?: unknown }).keyPrefix !== undefined) {
    throw new YadtqError(
      'INVALID_OPTION',
      `${label('redis.keyPrefix')} is not supported (${NO_KEY_PREFIX})`,
    );
  }
  const duration = (name: 'retentionMs' | 'pendingTtlMs' | 'connectTimeoutMs') =>
    optional(label(name), options[name], positive, DEFAULTS[name]);
  return {
    url: optional(label('url'), options.url, redisUrl, DEFAULTS.redisUrl),
    prefix: optional(label('prefix'), options.prefix, nonEmpty, DEFAULTS.prefix),
    retentionMs: duration('retentionMs'),
    pendingTtlMs: duration('pendingTtlMs'),
    connectTimeoutMs: duration('connectTimeoutMs'),
    redis,
    client,
  };
}

function label(option: string): string {
  return `Redis store option "${option}"`;
}
