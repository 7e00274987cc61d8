import { randomBytes } from 'node:crypto';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import { type Backend, createKafkaRedisBackend, resolveConfig } from '../../src/index.ts';

/** The services `npm test` started (integration tests never skip: unreachable means failed). */
export const KAFKA_BROKERS = process.env.YADTQ_KAFKA_BROKERS ?? '127.0.0.1:19092';
export const REDIS_URL = process.env.YADTQ_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Unique names for one test: its own topic, consumer group and Redis key prefix. */
export function uniqueNames(label: string) {
  const id = `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return { topic: `yadtq-test-${id}`, groupId: `yadtq-test-${id}`, prefix: `yadtq-test:${id}:` };
}

/** Environment variables that point the CLI at the same isolated names. */
export function cliEnv(names: ReturnType<typeof uniqueNames>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    YADTQ_KAFKA_BROKERS: KAFKA_BROKERS,
    YADTQ_REDIS_URL: REDIS_URL,
    YADTQ_TOPIC: names.topic,
    YADTQ_GROUP: names.groupId,
    YADTQ_PREFIX: names.prefix,
  };
}

/** Deletes every Redis key under `prefix` (never FLUSHDB: the Redis may be shared). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const topics = new WeakMap<Backend, string>();

/** A fresh Kafka + Redis backend on unique names; close() also deletes its Redis keys. */
export async function kafkaRedisBackend(label: string): Promise<Backend> {
  const names = uniqueNames(label);
  const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
  const backend = await createKafkaRedisBackend(config, { clientId: `yadtq-test-${label}` });
  const wrapped: Backend = {
    ...backend,
    async close() {
      await backend.close();
      await deleteKeys(names.prefix);
    },
  };
  topics.set(wrapped, names.topic);
  return wrapped;
}

/** Reads `count` messages of the backend's dead-letter topic `<topic>.dlq` from the start. */
export async function kafkaDeadLetters(backend: Backend, count: number): Promise<DeadLetter[]> {
  const topic = topics.get(backend);
  if (topic === undefined) throw new Error('not a backend made by kafkaRedisBackend()');
  const reader = new Consumer<string, string, string, string>({
    clientId: 'yadtq-test-dlq-reader',
    groupId: `${topic}-dlq-reader`,
    bootstrapBrokers: KAFKA_BROKERS.split(','),
    deserializers: stringDeserializers,
    autocommit: false,
  });
  try {
    const stream = await reader.consume({
      topics: [`${topic}.dlq`],
      mode: MessagesStreamModes.EARLIEST,
    });
    const found: DeadLetter[] = [];
    for await (const message of stream) {
      found.push({ value: message.value, headers: Object.fromEntries(message.headers) });
      if (found.length >= count) break;
    }
    return found;
  } finally {
    await reader.close(true);
  }
}

/** A dead-lettered message: its original value and the headers that say why. */
export interface DeadLetter {
  value: string;
  headers: Record<string, string>;
}
