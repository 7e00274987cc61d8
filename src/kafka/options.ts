import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import {
  isLoggerOption,
  type Logger,
  type LoggerOption,
  silentLogger,
  toLogger,
} from '../core/logger.ts';
import {
  check,
  hostPort,
  listOf,
  object,
  oneOf,
  or,
  positive,
  type Rule,
  rule,
  topicName,
  wholeNumber,
  withDefaults,
  word,
} from '../core/options.ts';

/** A secret given as it is, or read each time a connection authenticates. */
export type KafkaCredential<T = string> = T | (() => T | Promise<T>);

/**
 * SASL authentication towards Kafka, as yadtq's own type so that a user's strict build
 * needs no driver types; handed to the Kafka client as it is. For a custom authenticator
 * (`authenticate`, `authBytesValidator`), type the options as `KafkaBrokerDriverOptions`
 * from `yadtq/drivers` and pass those.
 */
export interface KafkaSaslOptions {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | 'GSSAPI';
  /** For PLAIN and SCRAM. */
  username?: KafkaCredential | undefined;
  /** For PLAIN and SCRAM. */
  password?: KafkaCredential | undefined;
  /** The bearer token, for OAUTHBEARER. */
  token?: KafkaCredential | undefined;
  /** OAUTHBEARER extensions (KIP-342). */
  oauthBearerExtensions?: KafkaCredential<Record<string, string>> | undefined;
}

/** How {@link KafkaBroker} reaches Kafka and which topic and group it uses. */
export interface KafkaBrokerOptions {
  /** Bootstrap servers as `host:port`. Default `DEFAULTS.kafkaBrokers` (`['localhost:9092']`). */
  brokers?: string[];
  /** The task topic; its dead-letter topic is `<topic>.dlq`. Default `DEFAULTS.topic`. */
  topic?: string;
  /** Partitions of both topics when yadtq creates them. Default `DEFAULTS.partitions` (4). */
  partitions?: number;
  /**
   * Replicas of each partition when yadtq creates the topics (both, tasks and dead-letter).
   * `'auto'`: 3 when the cluster reports two or more live brokers, 1 on a single broker
   * (counted when the topics are created: in production name the number). Default `'auto'`.
   */
  replicationFactor?: number | 'auto';
  /**
   * `min.insync.replicas` of the topics yadtq creates: with acks=all a produce is
   * acknowledged only once this many replicas have it, and refused (retriably) while
   * fewer are in sync. `'auto'`: 2 when the replication factor is 3 or more, else the
   * broker's own default. Default `'auto'`.
   */
  minInSyncReplicas?: number | 'auto';
  /**
   * Where the broker says what it found at start that weakens a guarantee: a topic that
   * exists with fewer replicas or a lower `min.insync.replicas` than asked for, or
   * partitions with fewer in-sync replicas than `min.insync.replicas`: a yadtq `Logger`
   * or a pino-shaped one. Default: silent.
   */
  logger?: LoggerOption;
  /**
   * `retention.ms` of the task topic when yadtq creates it; -1 keeps messages forever.
   * Keep it at least the store's pending TTL: Kafka deletes a backlog older than this
   * whether or not it ran. A worker warns at start when an existing topic keeps less.
   * Default `DEFAULTS.topicRetentionMs` (7 days, the pending TTL).
   */
  topicRetentionMs?: number;
  /** The consumer group workers join. Default `DEFAULTS.groupId`. */
  groupId?: string;
  /** Client id of the producer and admin clients (consumers use their member id). Default `DEFAULTS.kafkaClientId`. */
  clientId?: string;
  /** A member that has not heartbeated for this long leaves the group. Default `DEFAULTS.kafkaSessionTimeoutMs` (6 s). */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats; below `sessionTimeoutMs`. Default `DEFAULTS.kafkaHeartbeatIntervalMs` (1 s). */
  heartbeatIntervalMs?: number;
  /**
   * The consumer group protocol: `'consumer'` (KIP-848: the broker assigns partitions
   * and members join or die without stopping the others; Kafka ≥ 4.0) or `'classic'`
   * (client-side cooperative-sticky assignment, session timeout and heartbeats set here).
   * Default `'consumer'`.
   */
  groupProtocol?: 'consumer' | 'classic';
  /** How often settled offsets are committed. Default `DEFAULTS.commitIntervalMs` (200 ms). */
  commitIntervalMs?: number;
  /**
   * Bytes of fetched messages (key, value and headers) a subscription holds ahead of its
   * worker, so slots that free up are filled at once; when they are reached, fetching
   * pauses until the worker took some. At most this plus one fetch (no more than this
   * again) is buffered. Default `DEFAULTS.fetchAheadBytes` (1 MiB).
   */
  fetchAheadBytes?: number;
  /** Bound on reaching Kafka before failing with `BROKER_UNAVAILABLE`. Default `DEFAULTS.connectTimeoutMs` (10 s). */
  connectTimeoutMs?: number;
  /** TLS options, passed to the Kafka client as they are. Default: plaintext. */
  tls?: TlsOptions;
  /** SASL options, passed to the Kafka client as they are. Default: none. */
  sasl?: KafkaSaslOptions;
}

/** {@link KafkaBrokerOptions} with every default filled in. */
export type ResolvedKafkaBrokerOptions = Required<
  Omit<KafkaBrokerOptions, 'tls' | 'sasl' | 'logger'>
> &
  Pick<KafkaBrokerOptions, 'tls' | 'sasl'> & { logger: Logger };

/** The defaults of {@link KafkaBrokerOptions}, all from `DEFAULTS`. */
export const KAFKA_BROKER_DEFAULTS = {
  brokers: [...DEFAULTS.kafkaBrokers],
  topic: DEFAULTS.topic,
  partitions: DEFAULTS.partitions,
  replicationFactor: DEFAULTS.replicationFactor,
  minInSyncReplicas: DEFAULTS.minInSyncReplicas,
  logger: silentLogger,
  topicRetentionMs: DEFAULTS.topicRetentionMs,
  groupId: DEFAULTS.groupId,
  clientId: DEFAULTS.kafkaClientId,
  sessionTimeoutMs: DEFAULTS.kafkaSessionTimeoutMs,
  heartbeatIntervalMs: DEFAULTS.kafkaHeartbeatIntervalMs,
  groupProtocol: DEFAULTS.groupProtocol,
  commitIntervalMs: DEFAULTS.commitIntervalMs,
  fetchAheadBytes: DEFAULTS.fetchAheadBytes,
  connectTimeoutMs: DEFAULTS.connectTimeoutMs,
} satisfies Partial<KafkaBrokerOptions>;

const LOGGER = rule<LoggerOption>(
  'a Logger or a pino-shaped logger (debug, info, warn, error)',
  isLoggerOption,
);

/** The form of each option (cross-option limits are checked after). */
const RULES: { [K in keyof ResolvedKafkaBrokerOptions]-?: Rule<unknown> } = {
  brokers: listOf(hostPort),
  topic: topicName,
  partitions: wholeNumber(1),
  replicationFactor: or(wholeNumber(1), 'auto'),
  minInSyncReplicas: or(wholeNumber(1), 'auto'),
  logger: LOGGER,
  topicRetentionMs: or(wholeNumber(1000), -1),
  groupId: word,
  clientId: word,
  sessionTimeoutMs: positive,
  heartbeatIntervalMs: positive,
  groupProtocol: oneOf(['consumer', 'classic']),
  commitIntervalMs: positive,
  fetchAheadBytes: positive,
  connectTimeoutMs: positive,
  tls: object,
  sasl: rule(
    'an object naming a mechanism',
    (v) => typeof (v as KafkaSaslOptions | null)?.mechanism === 'string',
  ),
};

/**
 * Fills in defaults and checks every option.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export function resolveKafkaBrokerOptions(
  options: KafkaBrokerOptions = {},
): ResolvedKafkaBrokerOptions {
  check('Kafka broker options', options, object);
  const resolved = withDefaults(
    KAFKA_BROKER_DEFAULTS as Omit<ResolvedKafkaBrokerOptions, 'logger'> & { logger: LoggerOption },
    options,
  );
  for (const [name, must] of Object.entries(RULES)) {
    const value = resolved[name as keyof typeof resolved];
    // TLS and SASL are off unless given.
    if (value !== undefined || (name !== 'tls' && name !== 'sasl')) check(label(name), value, must);
  }
  const { replicationFactor, minInSyncReplicas } = resolved;
  if (
    typeof replicationFactor === 'number' &&
    typeof minInSyncReplicas === 'number' &&
    minInSyncReplicas > replicationFactor
  ) {
    throw new YadtqError(
      'INVALID_OPTION',
      `${label('minInSyncReplicas')} (${minInSyncReplicas}) must not exceed replicationFactor (${replicationFactor}): every produce would be refused`,
    );
  }
  if (resolved.heartbeatIntervalMs >= resolved.sessionTimeoutMs) {
    throw new YadtqError(
      'INVALID_OPTION',
      `${label('heartbeatIntervalMs')} must be below sessionTimeoutMs (${resolved.sessionTimeoutMs})`,
    );
  }
  return { ...resolved, logger: toLogger(resolved.logger) };
}

function label(name: string): string {
  return `Kafka broker option "${name}"`;
}
