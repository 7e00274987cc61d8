import { DEFAULTS } from './core/defaults.ts';
import { YadtqError } from './core/errors.ts';
import {
  check,
  hostPort,
  listOf,
  mustBe,
  nonEmpty,
  numberText,
  redisUrl as redisUrlRule,
  show,
  topicName,
  wholeNumber,
} from './core/options.ts';

const BROKER_LIST = listOf(hostPort);
const PARTITIONS = numberText(wholeNumber(1));

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
  if (!BROKER_LIST.accepts(kafkaBrokers))
    throw new YadtqError('INVALID_OPTION', mustBe('Kafka brokers', BROKER_LIST, brokers));
  const partitions = check('partitions', pick('partitions') ?? DEFAULTS.partitions, PARTITIONS);
  const text = (key: 'redisUrl' | 'topic' | 'groupId' | 'prefix', fallback: string): string => {
    const value = String(pick(key) ?? fallback);
    if (!nonEmpty.accepts(value))
      throw new YadtqError('INVALID_OPTION', `${key} must not be empty`);
    return value;
  };
  const redisUrl = check('Redis URL', text('redisUrl', DEFAULTS.redisUrl), redisUrlRule);
  const topic = text('topic', DEFAULTS.topic);
  if (!topicName.accepts(topic))
    throw new YadtqError(
      'INVALID_OPTION',
      `topic ${show(topic)} is not a valid Kafka topic name (${topicName.says})`,
    );
  return {
    kafkaBrokers,
    redisUrl,
    topic,
    partitions: PARTITIONS.parse(partitions),
    groupId: text('groupId', DEFAULTS.groupId),
    prefix: text('prefix', DEFAULTS.prefix),
  };
}
