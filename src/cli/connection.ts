import { type Backend, createKafkaRedisBackend } from '../backend.ts';
import { type ConnectionConfig, resolveConfig } from '../config.ts';
import type { CONNECTION_FLAGS } from './connection-flags.ts';
import { stderrLogger } from './log.ts';

type Flags = Partial<Record<keyof typeof CONNECTION_FLAGS, string | boolean | undefined>>;

/** Flags, then environment, then defaults. */
export function connectionConfig(flags: Flags): ConnectionConfig {
  const text = (value: string | boolean | undefined) =>
    typeof value === 'string' ? value : undefined;
  return resolveConfig({
    kafkaBrokers: text(flags.brokers),
    redisUrl: text(flags['redis-url']),
    topic: text(flags.topic),
    partitions: text(flags.partitions),
    groupId: text(flags.group),
    prefix: text(flags.prefix),
  });
}

/** Connects the production pair named by the flags; the Kafka side warns on stderr. */
export function connect(flags: Flags, clientId = 'yadtq-cli'): Promise<Backend> {
  return createKafkaRedisBackend(connectionConfig(flags), {
    clientId,
    kafka: { logger: stderrLogger() },
  });
}
