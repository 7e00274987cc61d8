import { DEFAULTS } from './core/defaults.ts';
import { YadtqError } from './core/errors.ts';

/** Where the production pair lives and how it is named. */
export interface ConnectionConfig {
  kafkaBrokers: string[];
  redisUrl: string;
  topic: string;
  partitions: number;
  groupId: string;
  prefix: string;
}

/** The environment variables that override {@link DEFAULTS}, by config field. */
export const ENV_VARS = {
  kafkaBrokers: 'YADTQ_KAFKA_BROKERS',
  redisUrl: 'YADTQ_REDIS_URL',
  topic: 'YADTQ_TOPIC',
  partitions: 'YADTQ_PARTITIONS',
  groupId: 'YADTQ_GROUP',
  prefix: 'YADTQ_PREFIX',
} as const satisfies Record<keyof ConnectionConfig, string>;

/**
 * Resolves the connection config: explicit values first, then environment variables,
 * then {@link DEFAULTS}. @throws YadtqError INVALID_OPTION naming the bad value.
 */
export function resolveConfig(
  given: Partial<Record<keyof ConnectionConfig, string | number | string[] | undefined>> = {},
  env: NodeJS.ProcessEnv = process.env,
): ConnectionConfig {
  const pick = (key: keyof ConnectionConfig): string | number | string[] | undefined =>
    given[key] ?? (env[ENV_VARS[key]] || undefined);
  const brokers = pick('kafkaBrokers') ?? [...DEFAULTS.kafkaBrokers];
  const kafkaBrokers = (Array.isArray(brokers) ? brokers : String(brokers).split(','))
    .map((b) => b.trim())
    .filter(Boolean);
  if (kafkaBrokers.length === 0 || kafkaBrokers.some((b) => !/^[^:\s]+:\d+$/.test(b))) {
    throw new YadtqError(
      'INVALID_OPTION',
      `Kafka brokers must be host:port[,host:port…], got ${JSON.stringify(brokers)}`,
    );
  }
  const partitions = Number(pick('partitions') ?? DEFAULTS.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new YadtqError(
      'INVALID_OPTION',
      `partitions must be a whole number ≥ 1, got ${JSON.stringify(pick('partitions'))}`,
    );
  }
  const text = (key: 'redisUrl' | 'topic' | 'groupId' | 'prefix', fallback: string): string => {
    const value = String(pick(key) ?? fallback);
    if (value.length === 0) throw new YadtqError('INVALID_OPTION', `${key} must not be empty`);
    return value;
  };
  const redisUrl = text('redisUrl', DEFAULTS.redisUrl);
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new YadtqError(
      'INVALID_OPTION',
      `Redis URL must start with redis:// or rediss://, got ${JSON.stringify(redisUrl)}`,
    );
  }
  const topic = text('topic', DEFAULTS.topic);
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(topic))
    throw new YadtqError(
      'INVALID_OPTION',
      `topic ${JSON.stringify(topic)} is not a valid Kafka topic name`,
    );
  return {
    kafkaBrokers,
    redisUrl,
    topic,
    partitions,
    groupId: text('groupId', DEFAULTS.groupId),
    prefix: text('prefix', DEFAULTS.prefix),
  };
}
