import { ENV_VARS } from '../config.ts';
import { DEFAULTS } from '../core/defaults.ts';
import type { Flags } from './command.ts';

/**
 * The connection flags every command accepts: flag, then environment variable, then
 * default (resolved by `resolveConfig`, which checks them).
 */
export const CONNECTION_FLAGS = {
  brokers: {
    value: '<host:port,…>',
    description: 'Kafka bootstrap servers',
    env: ENV_VARS.kafkaBrokers,
    default: DEFAULTS.kafkaBrokers.join(','),
  },
  'redis-url': {
    value: '<url>',
    description: 'Redis URL',
    env: ENV_VARS.redisUrl,
    default: DEFAULTS.redisUrl,
  },
  topic: {
    value: '<name>',
    description: 'task topic',
    env: ENV_VARS.topic,
    default: DEFAULTS.topic,
  },
  partitions: {
    value: '<n>',
    description: 'partitions when created',
    env: ENV_VARS.partitions,
    default: DEFAULTS.partitions,
  },
  group: {
    value: '<id>',
    description: 'consumer group',
    env: ENV_VARS.groupId,
    default: DEFAULTS.groupId,
  },
  prefix: {
    value: '<p>',
    description: 'Redis key prefix',
    env: ENV_VARS.prefix,
    default: DEFAULTS.prefix,
  },
} as const satisfies Flags;
