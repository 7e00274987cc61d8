import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';

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
  /** Bootstrap servers as `host:port`. Default `['localhost:9092']`. */
  brokers?: string[];
  /** The task topic; its dead-letter topic is `<topic>.dlq`. Default `'yadtq_tasks'`. */
  topic?: string;
  /** Partitions of both topics when yadtq creates them. Default `4`. */
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
   * partitions with fewer in-sync replicas than `min.insync.replicas`. Default: silent.
   */
  logger?: Logger;
  /**
   * `retention.ms` of the task topic when yadtq creates it; -1 keeps messages forever.
   * Keep it at least the store's pending TTL: Kafka deletes a backlog older than this
   * whether or not it ran. A worker warns at start when an existing topic keeps less.
   * Default `DEFAULTS.topicRetentionMs` (7 days, the pending TTL).
   */
  topicRetentionMs?: number;
  /** The consumer group workers join. Default `'yadtq_worker_group'`. */
  groupId?: string;
  /** Client id of the producer and admin clients (consumers use their member id). Default `'yadtq'`. */
  clientId?: string;
  /** A member that has not heartbeated for this long leaves the group. Default `6000`. */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats; below `sessionTimeoutMs`. Default `1000`. */
  heartbeatIntervalMs?: number;
  /**
   * The consumer group protocol: `'consumer'` (KIP-848: the broker assigns partitions
   * and members join or die without stopping the others; Kafka ≥ 4.0) or `'classic'`
   * (client-side cooperative-sticky assignment, session timeout and heartbeats set here).
   * Default `'consumer'`.
   */
  groupProtocol?: 'consumer' | 'classic';
  /** How often settled offsets are committed. Default `200`. */
  commitIntervalMs?: number;
  /**
   * Bytes of fetched messages (key, value and headers) a subscription holds ahead of its
   * worker, so slots that free up are filled at once; when they are reached, fetching
   * pauses until the worker took some. At most this plus one fetch (no more than this
   * again) is buffered. Default `DEFAULTS.fetchAheadBytes` (1 MiB).
   */
  fetchAheadBytes?: number;
  /** Bound on reaching Kafka before failing with `BROKER_UNAVAILABLE`. Default `10000`. */
  connectTimeoutMs?: number;
  /** TLS options, passed to the Kafka client as they are. Default: plaintext. */
  tls?: TlsOptions;
  /** SASL options, passed to the Kafka client as they are. Default: none. */
  sasl?: KafkaSaslOptions;
}

/** {@link KafkaBrokerOptions} with every default filled in. */
export type ResolvedKafkaBrokerOptions = Required<Omit<KafkaBrokerOptions, 'tls' | 'sasl'>> &
  Pick<KafkaBrokerOptions, 'tls' | 'sasl'>;

/** The defaults of {@link KafkaBrokerOptions}. */
export const KAFKA_BROKER_DEFAULTS = {
  brokers: [...DEFAULTS.kafkaBrokers],
  topic: DEFAULTS.topic,
  partitions: DEFAULTS.partitions,
  replicationFactor: 'auto',
  minInSyncReplicas: 'auto',
  logger: silentLogger,
  topicRetentionMs: DEFAULTS.topicRetentionMs,
  groupId: DEFAULTS.groupId,
  clientId: 'yadtq',
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 1000,
  groupProtocol: 'consumer',
  commitIntervalMs: DEFAULTS.commitIntervalMs,
  fetchAheadBytes: DEFAULTS.fetchAheadBytes,
  connectTimeoutMs: DEFAULTS.connectTimeoutMs,
} satisfies Partial<KafkaBrokerOptions>;

// Kafka's own rule for topic names; the `.dlq` suffix must still fit in 249 characters.
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,245}$/;
const HOST_PORT = /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/;

/**
 * Fills in defaults and checks every option.
 * @throws YadtqError INVALID_OPTION naming the first bad option.
 */
export function resolveKafkaBrokerOptions(
  options: KafkaBrokerOptions = {},
): ResolvedKafkaBrokerOptions {
  if (options === null || typeof options !== 'object')
    throw invalid('options', 'must be an object');
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const resolved: ResolvedKafkaBrokerOptions = { ...KAFKA_BROKER_DEFAULTS, ...defined };
  const { brokers } = resolved;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw invalid('brokers', 'must be a non-empty array of "host:port" strings');
  }
  for (const broker of brokers) {
    if (typeof broker !== 'string' || !HOST_PORT.test(broker)) {
      throw invalid('brokers', `has ${JSON.stringify(broker)}, expected "host:port"`);
    }
  }
  if (typeof resolved.topic !== 'string' || !TOPIC_NAME.test(resolved.topic)) {
    throw invalid('topic', 'must be 1-245 characters of letters, digits, ".", "_" or "-"');
  }
  for (const name of ['groupId', 'clientId'] as const) {
    const value = resolved[name];
    if (typeof value !== 'string' || !/^\S+$/.test(value)) {
      throw invalid(name, 'must be a non-empty string without whitespace');
    }
  }
  wholeNumber(resolved, 'partitions', 1);
  for (const name of ['replicationFactor', 'minInSyncReplicas'] as const) {
    if (resolved[name] !== 'auto') wholeNumber(resolved, name, 1, "or 'auto'");
  }
  const { replicationFactor, minInSyncReplicas } = resolved;
  if (
    typeof replicationFactor === 'number' &&
    typeof minInSyncReplicas === 'number' &&
    minInSyncReplicas > replicationFactor
  ) {
    throw invalid(
      'minInSyncReplicas',
      `(${minInSyncReplicas}) must not exceed replicationFactor (${replicationFactor}): every produce would be refused`,
    );
  }
  const { logger } = resolved;
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  if (
    logger === null ||
    typeof logger !== 'object' ||
    levels.some((level) => typeof logger[level] !== 'function')
  ) {
    throw invalid('logger', 'must be a Logger (debug, info, warn, error)');
  }
  if (resolved.topicRetentionMs !== -1) wholeNumber(resolved, 'topicRetentionMs', 1000);
  wholeNumber(resolved, 'sessionTimeoutMs', 1);
  wholeNumber(resolved, 'heartbeatIntervalMs', 1);
  wholeNumber(resolved, 'commitIntervalMs', 1);
  wholeNumber(resolved, 'fetchAheadBytes', 1);
  wholeNumber(resolved, 'connectTimeoutMs', 1);
  if (resolved.groupProtocol !== 'consumer' && resolved.groupProtocol !== 'classic') {
    throw new YadtqError(
      'INVALID_OPTION',
      `groupProtocol must be 'consumer' or 'classic', got ${JSON.stringify(resolved.groupProtocol)}`,
    );
  }
  if (resolved.heartbeatIntervalMs >= resolved.sessionTimeoutMs) {
    throw invalid(
      'heartbeatIntervalMs',
      `must be below sessionTimeoutMs (${resolved.sessionTimeoutMs})`,
    );
  }
  for (const name of ['tls', 'sasl'] as const) {
    const value = resolved[name];
    if (value !== undefined && (value === null || typeof value !== 'object')) {
      throw invalid(name, 'must be an object');
    }
  }
  if (resolved.sasl !== undefined && typeof resolved.sasl.mechanism !== 'string') {
    throw invalid('sasl', 'must name a mechanism');
  }
  return resolved;
}

function wholeNumber(
  options: ResolvedKafkaBrokerOptions,
  name: keyof ResolvedKafkaBrokerOptions,
  min: number,
  alternative = '',
): void {
  const value = options[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const or = alternative === '' ? '' : ` ${alternative}`;
    throw invalid(name, `must be a whole number ≥ ${min}${or}, got ${JSON.stringify(value)}`);
  }
}

function invalid(name: string, why: string): YadtqError {
  return new YadtqError('INVALID_OPTION', `Kafka broker option "${name}" ${why}`);
}
