import type { ConnectionConfig } from './config.ts';
import type { Broker } from './core/broker.ts';
import type { MonitorStore, Store } from './core/store.ts';
import { MemoryBroker } from './memory/memory-broker.ts';
import { MemoryStore } from './memory/memory-store.ts';

/** A broker and a store that belong together, closed together. */
export interface Backend {
  readonly kind: 'memory' | 'kafka+redis';
  readonly broker: Broker;
  readonly store: Store & MonitorStore;
  close(): Promise<void>;
}

/** The embedded pair: everything in this process, no servers. */
export function createMemoryBackend(
  options: { partitions?: number } = {},
): Backend & { broker: MemoryBroker } {
  const broker = new MemoryBroker(options);
  const store = new MemoryStore();
  return {
    kind: 'memory',
    broker,
    store,
    async close() {
      await broker.close();
      await store.close();
    },
  };
}

/**
 * The production pair: Kafka for the task log, Redis for state. The drivers load only
 * here, so the embedded backend works without them.
 */
export async function createKafkaRedisBackend(
  config: ConnectionConfig,
  extra: {
    clientId?: string;
    kafka?: Record<string, unknown>;
    redis?: Record<string, unknown>;
  } = {},
): Promise<Backend> {
  const [{ KafkaBroker }, { RedisStore }] = await Promise.all([
    import('./kafka/kafka-broker.ts'),
    import('./redis/redis-store.ts'),
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
  return {
    kind: 'kafka+redis',
    broker,
    store,
    async close() {
      await Promise.allSettled([broker.close(), store.close()]);
    },
  };
}
