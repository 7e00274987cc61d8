import { Redis } from 'ioredis';
import { YadtqError } from '../core/errors.ts';
import { closeConnection, redactUrl, whenReady } from './connection.ts';
import type { ResolvedRedisStoreOptions } from './options.ts';
import { defineScripts, type ScriptCommands, type StoreContext } from './scripts.ts';

/**
 * The one command connection the Redis store contracts share (task state, the worker
 * registry, the monitor's view, and the stats when the backend builds them): the scripts
 * defined on it, the key names, and the guard every command goes through. An unreachable
 * server fails the first command with STORE_UNAVAILABLE, never the constructor.
 */
export class RedisConnection implements StoreContext {
  readonly options: ResolvedRedisStoreOptions;
  readonly redis: Redis;
  readonly scripts: ScriptCommands;
  readonly channel: string;
  readonly #ownsClient: boolean;
  readonly #where: string;
  #lastError: Error | null = null;
  #closed = false;

  constructor(options: ResolvedRedisStoreOptions) {
    this.options = options;
    const { client, url, connectTimeoutMs, redis, prefix } = options;
    this.#ownsClient = client === null;
    // A given client was checked to be an ioredis instance when the options were resolved.
    this.redis =
      (client as Redis | null) ??
      new Redis(url, {
        connectTimeout: connectTimeoutMs,
        // A server that stops answering (paused, or cut off without a reset) fails each
        // command after this bound instead of leaving it pending for ever.
        commandTimeout: connectTimeoutMs,
        enableAutoPipelining: true,
        ...redis,
      });
    this.#where =
      client === null ? redactUrl(url) : `${client.options.host}:${client.options.port}`;
    if (this.#ownsClient) this.redis.on('error', this.recordError);
    this.scripts = defineScripts(this.redis);
    this.channel = `${prefix}events`;
  }

  /** True once {@link close} was called: every command then fails with CLOSED. */
  get closed(): boolean {
    return this.#closed;
  }

  // key, run and runOn are bound: the stores take them out of the connection (`{ run, key }`).
  readonly key = (kind: string, id?: string): string => {
    const { prefix } = this.options;
    return id === undefined ? `${prefix}${kind}` : `${prefix}${kind}:${id}`;
  };

  readonly run = <T>(command: () => Promise<T>): Promise<T> => this.runOn(this.redis, command);

  /** Runs a command once `connection` is ready; connection trouble → STORE_UNAVAILABLE. */
  readonly runOn = async <T>(connection: Redis, command: () => Promise<T>): Promise<T> => {
    if (this.#closed) throw closedError();
    if (connection.status !== 'ready') {
      await whenReady(connection, this.options.connectTimeoutMs, () => this.#unavailable());
    }
    try {
      return await command();
    } catch (error) {
      // A ReplyError is Redis answering (a script or command error), not connection trouble.
      if ((error as Error).name === 'ReplyError') throw error;
      throw this.#unavailable(error as Error);
    }
  };

  /** A second connection (for pub/sub), its errors recorded like the main one's. */
  duplicate(): Redis {
    const subscriber = this.redis.duplicate({ enableAutoPipelining: false });
    subscriber.on('error', this.recordError);
    return subscriber;
  }

  /** Closes the connection if this store opened it (never a `client` it was given). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await closeConnection(this.redis);
  }

  #unavailable(cause: Error | null = this.#lastError): YadtqError {
    const detail = cause === null ? '' : `: ${cause.message}`;
    return new YadtqError(
      'STORE_UNAVAILABLE',
      `cannot reach Redis at ${this.#where} (waited up to ${this.options.connectTimeoutMs} ms)${detail}`,
      { retriable: true, cause },
    );
  }

  readonly recordError = (error: Error): void => {
    this.#lastError = error;
  };
}

export function closedError(): YadtqError {
  return new YadtqError('CLOSED', 'the Redis store is closed');
}
