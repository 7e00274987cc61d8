// The one starter of Kafka and Redis that `npm test` (scripts/test.mjs), `npm run bench`
// and `npm run chaos` share: the addresses a caller was given, else servers of our own,
// with a bounded wait and an error that says what could not start. The servers themselves
// are in ./kafka.ts (scripts/kafka.mjs's logic, in-process) and ./redis.ts.
import { join } from 'node:path';
import { LocalKafka, type LocalKafkaOptions } from './kafka.ts';
import { LocalRedis, redisAnswers } from './redis.ts';

export { LocalKafka, type LocalKafkaOptions, PRODUCTION_JVM_OPTS } from './kafka.ts';
/** The repository's root directory. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export { freePort, LocalRedis, type LocalRedisOptions, redisAnswers } from './redis.ts';

/** A Kafka to use, and how to let go of it. */
export interface KafkaInUse {
  /** Bootstrap addresses, comma-separated. */
  brokers: string;
  /** The brokers of our own (started or reused), undefined when `given` was used. */
  local: LocalKafka | undefined;
  /** Whether this call started them (so stop() will stop them). */
  started: boolean;
  /** Stops what `stopAfter` says; never a given Kafka. */
  stop(): Promise<void>;
}

export interface UseKafkaOptions extends LocalKafkaOptions {
  /** Bootstrap addresses to use as they are (e.g. YADTQ_KAFKA_BROKERS); empty = none. */
  given?: string | undefined;
  /** Port of our own (first) broker. */
  port: number;
  /** Brokers of our own cluster. Default 1. */
  count?: number;
  /**
   * 'if-started' (default): stop() leaves brokers that were already running; 'always':
   * stop() stops our brokers even if they were running before.
   */
  stopAfter?: 'if-started' | 'always';
}

/**
 * The given Kafka, else our own broker(s) on `port` (reused when already running).
 * @throws Error naming the port and the broker log's last lines when they cannot start
 */
export async function useKafka(options: UseKafkaOptions): Promise<KafkaInUse> {
  if (options.given) {
    return { brokers: options.given, local: undefined, started: false, stop: async () => {} };
  }
  const { given: _, port, count, stopAfter = 'if-started', ...rest } = options;
  const local = new LocalKafka(port, count, rest);
  const started = !(await local.running());
  const brokers = await local.start(false);
  return {
    brokers,
    local,
    started,
    stop: async () => {
      if (started || stopAfter === 'always') await local.stop();
    },
  };
}

/** A Redis to use, and how to let go of it. */
export interface RedisInUse {
  url: string;
  /** The redis-server of our own, undefined when a given or the machine's Redis is used. */
  local: LocalRedis | undefined;
  stop(): Promise<void>;
}

export interface UseRedisOptions {
  /** A Redis URL to use as it is (e.g. YADTQ_REDIS_URL); empty = none. */
  given?: string | undefined;
  /** Use the Redis answering PING on 127.0.0.1 at this port, if one does (e.g. 6379). */
  shared?: number;
  log?: (line: string) => void;
}

/**
 * The given Redis, else the shared one when it answers, else a redis-server of our own on
 * a free port (stopped by stop()).
 * @throws Error when redis-server cannot be run or does not answer within 15 s
 */
export async function useRedis(options: UseRedisOptions = {}): Promise<RedisInUse> {
  const none = async () => {};
  if (options.given) return { url: options.given, local: undefined, stop: none };
  if (options.shared !== undefined && (await redisAnswers(options.shared))) {
    const url = `redis://127.0.0.1:${options.shared}`;
    options.log?.(`using the Redis on 127.0.0.1:${options.shared}`);
    return { url, local: undefined, stop: none };
  }
  const local = await LocalRedis.start();
  options.log?.(`redis-server of our own on ${local.url} (pid ${local.pid})`);
  return { url: local.url, local, stop: () => local.stop() };
}
