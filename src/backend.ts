import type { ConnectionConfig } from './config.ts';
import type { Broker } from './core/broker.ts';
import { DEFAULTS } from './core/defaults.ts';
import type { PauseControl } from './core/pause.ts';
import type { ReplayLedger } from './core/replay-ledger.ts';
import type { ScheduleStore } from './core/schedule/schedule.ts';
import type { LagSnapshot, Stats } from './core/stats.ts';
import type { MonitorStore, TaskStore, WorkerRegistry } from './core/store.ts';
import type { KafkaBrokerOptions } from './kafka/options.ts';
import { MemoryBroker } from './memory/memory-broker.ts';
import { MemoryReplays } from './memory/memory-replays.ts';
import { MemorySchedules } from './memory/memory-schedules.ts';
import { MemoryStats } from './memory/memory-stats.ts';
import { memoryStores } from './memory/memory-store.ts';
import type { RedisStoreOptions } from './redis/options.ts';

/**
 * A broker and the stores that belong with it, closed together. Its fields are the
 * contracts each component takes: `new TaskClient(backend)`, and
 * `new TaskWorker({ ...backend, id, tasks })` (which records outcome stats too).
 */
export interface Backend {
  readonly kind: 'memory' | 'kafka+redis';
  readonly broker: Broker;
  /** Task state: records, results, dedup, the cache. */
  readonly store: TaskStore;
  /** Workers and their heartbeats. */
  readonly registry: WorkerRegistry;
  /** The monitor's view: the leader lock, held tasks, the scheduled and recovering sets. */
  readonly monitorStore: MonitorStore;
  /** Schedules: pass to workers (their monitor leader fires them) and clients. */
  readonly schedules: ScheduleStore;
  /** Paused task names: pass to clients (`pause`, `resume`). */
  readonly pauses: PauseControl;
  /** Which dead-letter entries were replayed (`replayDeadLetters`). */
  readonly replays: ReplayLedger;
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
  const { store, registry, monitorStore } = memoryStores();
  const stats = new MemoryStats();
  return {
    kind: 'memory',
    broker,
    store,
    registry,
    monitorStore,
    schedules: new MemorySchedules(),
    pauses: store.pauses,
    replays: new MemoryReplays(),
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
   * URL and prefix win. The stats write through the same connection.
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
  const [{ KafkaBroker }, { RedisStores }, { KafkaLag }, { RedisStats }] = await Promise.all([
    import('./kafka/kafka-broker.ts'),
    import('./redis/redis-stores.ts'),
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
  const stores = new RedisStores({ ...extra.redis, url: config.redisUrl, prefix: config.prefix });
  // The stats write through the stores' connection: one connection for every command.
  const stats = new RedisStats({
    client: stores.client,
    prefix: config.prefix,
    ...(extra.redis?.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: extra.redis.connectTimeoutMs }),
  });
  const lag = new KafkaLag({
    ...extra.kafka,
    brokers: config.kafkaBrokers,
    topic: config.topic,
    groupId: config.groupId,
    clientId: extra.clientId ?? DEFAULTS.kafkaClientId,
  });
  return {
    kind: 'kafka+redis',
    broker,
    store: stores.store,
    registry: stores.registry,
    monitorStore: stores.monitorStore,
    schedules: stores.schedules,
    pauses: stores.pauses,
    replays: stores.replays,
    stats,
    lag: async () => withHeartbeatOwners(await lag.lag(), stores.registry),
    async close() {
      await Promise.allSettled([broker.close(), stats.close(), lag.close()]);
      await stores.close();
    },
  };
}

/**
 * Fills partition owners the group description did not give (a KIP-848 consumer-protocol
 * group is not described by the classic API) from the partitions live workers publish in
 * their heartbeats.
 */
async function withHeartbeatOwners(
  snapshot: LagSnapshot,
  registry: Pick<WorkerRegistry, 'list'>,
): Promise<LagSnapshot> {
  if (snapshot.partitions.every((p) => p.owner !== null)) return snapshot;
  const owners = new Map<number, string>();
  for (const worker of await registry.list()) {
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
