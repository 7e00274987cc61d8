import type { ConnectionConfig } from './config.ts';
import type { Broker } from './core/broker.ts';
import type { LagSnapshot, Stats } from './core/stats.ts';
import type { MonitorStore, Store } from './core/store.ts';
import type { KafkaBrokerOptions } from './kafka/options.ts';
import { MemoryBroker } from './memory/memory-broker.ts';
import { MemoryStats } from './memory/memory-stats.ts';
import { MemoryStore } from './memory/memory-store.ts';
import type { RedisStoreOptions } from './redis/options.ts';

/** A broker and a store that belong together, closed together. */
export interface Backend {
  readonly kind: 'memory' | 'kafka+redis';
  readonly broker: Broker;
  readonly store: Store & MonitorStore;
  /** Outcome stats in bounded storage: pass to workers as `stats`, read for monitoring. */
  readonly stats: Stats;
  /** Consumer lag per partition of the task topic, and each partition's owner. */
  lag(): Promise<LagSnapshot>;
  close(): Promise<void>;
}

/** The embedded pair: everything in this process, no servers. */
export function createMemoryBackend(
  options: { partitions?: number } = {},
): Backend & { broker: MemoryBroker } {
  const broker = new MemoryBroker(options);
  const store = new MemoryStore();
  const stats = new MemoryStats();
  return {
    kind: 'memory',
    broker,
    store,
    stats,
    lag: () => broker.lag(),
    async close() {
      await broker.close();
      await store.close();
    },
  };
}

/** What {@link createKafkaRedisBackend} takes beside the connection config. */
export interface KafkaRedisBackendOptions {
  /** Client id of the Kafka producer and admin clients. Default `'yadtq'`. */
  clientId?: string;
  /** More Kafka broker options (`tls`, `sasl`, `sessionTimeoutMs`, …); the config's win. */
  kafka?: Omit<KafkaBrokerOptions, 'brokers' | 'topic' | 'partitions' | 'groupId' | 'clientId'>;
  /**
   * More Redis store options (`retentionMs`, `redis` connection options, …); the config's
   * URL and prefix win. The stats connection uses the same `redis` and `connectTimeoutMs`.
   */
  redis?: Omit<RedisStoreOptions, 'url' | 'prefix'>;
}

/**
 * The production pair: Kafka for the task log, Redis for state. The drivers load only
 * here, so the embedded backend works without them.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export async function createKafkaRedisBackend(
  config: ConnectionConfig,
  extra: KafkaRedisBackendOptions = {},
): Promise<Backend> {
  const [{ KafkaBroker }, { RedisStore }, { KafkaLag }, { RedisStats }] = await Promise.all([
    import('./kafka/kafka-broker.ts'),
    import('./redis/redis-store.ts'),
    import('./kafka/kafka-lag.ts'),
    import('./redis/redis-stats.ts'),
  ]);
  const broker = new KafkaBroker({
    ...extra.kafka,
    brokers: config.kafkaBrokers,
    topic: config.topic,
    partitions: config.partitions,
    groupId: config.groupId,
    ...(extra.clientId === undefined ? {} : { clientId: extra.clientId }),
  });
  const store = new RedisStore({ ...extra.redis, url: config.redisUrl, prefix: config.prefix });
  const stats = new RedisStats({
    ...(extra.redis?.redis === undefined ? {} : { redis: extra.redis.redis }),
    ...(extra.redis?.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: extra.redis.connectTimeoutMs }),
    url: config.redisUrl,
    prefix: config.prefix,
  });
  const lag = new KafkaLag({
    ...extra.kafka,
    brokers: config.kafkaBrokers,
    topic: config.topic,
    groupId: config.groupId,
    clientId: extra.clientId ?? 'yadtq',
  });
  return {
    kind: 'kafka+redis',
    broker,
    store,
    stats,
    lag: async () => withHeartbeatOwners(await lag.lag(), store),
    async close() {
      await Promise.allSettled([broker.close(), store.close(), stats.close(), lag.close()]);
    },
  };
}

/**
 * Fills partition owners the group description did not give (a KIP-848 consumer-protocol
 * group is not described by the classic API) from the partitions live workers publish in
 * their heartbeats.
 */
async function withHeartbeatOwners(snapshot: LagSnapshot, store: Store): Promise<LagSnapshot> {
  if (snapshot.partitions.every((p) => p.owner !== null)) return snapshot;
  const owners = new Map<number, string>();
  for (const worker of await store.workers()) {
    if (worker.alive) for (const partition of worker.partitions) owners.set(partition, worker.id);
  }
  return {
    ...snapshot,
    partitions: snapshot.partitions.map((p) => ({
      ...p,
      owner: p.owner ?? owners.get(p.partition) ?? null,
    })),
  };
}
