import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  COOPERATIVE_STICKY_ASSIGNOR,
  Consumer,
  compatibilityPartitioner,
  findErrorBy,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import type {
  Broker,
  BrokerMessage,
  Destination,
  StoredMessage,
  Subscription,
  TopicRetention,
} from '../core/broker.ts';
import { fitDeadLetter, messageBytes } from '../core/dead-letter.ts';
import { YadtqError } from '../core/errors.ts';
import { mustBe, word } from '../core/options.ts';
import { clientOptions, toYadtqError, withDeadline } from './client.ts';
import { readDeadLetters } from './dead-letters.ts';
import { fetchOptions } from './fetch-options.ts';
import { type GroupMember, KafkaSubscription } from './kafka-subscription.ts';
import {
  type KafkaBrokerOptions,
  type ResolvedKafkaBrokerOptions,
  resolveKafkaBrokerOptions,
} from './options.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, readMaxMessageBytes } from './topic-limits.ts';
import {
  replicationFor,
  replicationShortfalls,
  type TopicReplication,
  topicConfigs,
} from './topic-replication.ts';
import { readRetentionMs, retentionConfig } from './topic-retention.ts';

/** Retries of the Kafka client inside one send (200, 400, 800 ms apart). */
const PRODUCE_RETRIES = 3;
/** First pause before a failed send is tried again with fresh metadata; grows to 1 s. */
const SEND_RETRY_MS = 250;
/**
 * The {@link Broker} on Apache Kafka: an idempotent producer with acks=all, and one consumer
 * per subscription in a classic consumer group with cooperative-sticky assignment, so a
 * rebalance only moves the partitions that must move.
 */
export class KafkaBroker implements Broker {
  readonly #options: ResolvedKafkaBrokerOptions;
  readonly #subscriptions = new Set<KafkaSubscription>();
  #producer: Producer<string, string, string, string> | undefined;
  #admin: Admin | undefined;
  #topicsReady: Promise<void> | undefined;
  /** topic → its `max.message.bytes`, read once the topics exist. */
  #limits = new Map<string, number>();
  #closed = false;

  /** @throws YadtqError INVALID_OPTION naming the first bad option. */
  constructor(options: KafkaBrokerOptions = {}) {
    this.#options = resolveKafkaBrokerOptions(options);
  }

  /** The topic each destination writes to. */
  topicOf(destination: Destination): string {
    return destination === 'dead-letter' ? `${this.#options.topic}.dlq` : this.#options.topic;
  }

  /**
   * Produces `messages` to the destination's topic; resolves once every in-sync replica
   * has them. @throws YadtqError BROKER_UNAVAILABLE, CLOSED
   */
  async produce(destination: Destination, messages: readonly BrokerMessage[]): Promise<void> {
    this.#assertOpen();
    if (destination !== 'tasks' && destination !== 'dead-letter') {
      throw new YadtqError('INVALID_ARGS', `unknown destination ${JSON.stringify(destination)}`);
    }
    if (messages.length === 0) return;
    await this.#ensureTopics();
    this.#assertOpen();
    const topic = this.topicOf(destination);
    const limit = this.#limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
    const sized = messages.map((message) => {
      const fitted = destination === 'dead-letter' ? fitDeadLetter(message, limit) : message;
      const bytes = messageBytes(fitted);
      if (bytes > limit) {
        throw new YadtqError(
          'PAYLOAD_TOO_LARGE',
          `a message of about ${bytes} bytes is over the max.message.bytes of topic "${topic}" (${limit})`,
        );
      }
      return { message: fitted, bytes };
    });
    this.#producer ??= new Producer<string, string, string, string>({
      ...clientOptions(this.#options, this.#options.clientId),
      // Few retries inside a send: #send tries again itself, with fresh metadata.
      retries: PRODUCE_RETRIES,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: stringSerializers,
      partitioner: compatibilityPartitioner,
    });
    // One send puts a partition's messages in one record batch, which the broker refuses
    // whole past the topic's limit: sends of at most `limit` bytes in all, in order.
    for (const chunk of chunksOf(sized, limit)) {
      await this.#send(
        this.#producer,
        topic,
        chunk.map(({ key, value, headers, partition }) => ({
          topic,
          key,
          value,
          headers: headers ?? {},
          ...(partition === undefined ? {} : { partition }),
        })),
      );
    }
  }

  /**
   * One send. A retriable failure (a leader lost with its broker, too few in-sync replicas)
   * is tried again with fresh metadata, for up to `connectTimeoutMs` in all: the client
   * retries a moved leader without asking where it went.
   */
  async #send(
    producer: Producer<string, string, string, string>,
    topic: string,
    messages: MessageToProduce<string, string, string, string>[],
  ): Promise<void> {
    const deadline = Date.now() + this.#options.connectTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send({ messages });
        return;
      } catch (error) {
        const failure = toYadtqError(error, `producing to Kafka topic "${topic}" failed`);
        const delay = Math.min(SEND_RETRY_MS * attempt, 1000);
        if (!failure.retriable || this.#closed || Date.now() + delay >= deadline) throw failure;
        producer.clearMetadata();
        await sleep(delay);
      }
    }
  }

  /**
   * Joins the consumer group as `memberId`, reading from the earliest offset where the
   * group has committed none. @throws YadtqError BROKER_UNAVAILABLE, CLOSED
   */
  async subscribe(memberId: string): Promise<Subscription> {
    this.#assertOpen();
    if (!word.accepts(memberId))
      throw new YadtqError('INVALID_ARGS', mustBe('memberId', word, memberId));
    await this.#ensureTopics();
    this.#assertOpen();
    const { connectTimeoutMs, topic, commitIntervalMs, fetchAheadBytes } = this.#options;
    const join = () => this.#join(memberId);
    const first = await join();
    if (this.#closed) {
      await first.consumer.close(true).catch(() => {});
      this.#assertOpen();
    }
    const subscription: KafkaSubscription = new KafkaSubscription(first, {
      topic,
      commitIntervalMs,
      fetchAheadBytes,
      closeTimeoutMs: connectTimeoutMs,
      rejoin: join,
      logger: this.#options.logger,
      onClose: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * A new consumer in the group as `memberId`, with its message stream; a subscription
   * whose consumer failed (a broker lost under it) joins again through this.
   * @throws YadtqError BROKER_UNAVAILABLE
   */
  async #join(memberId: string): Promise<GroupMember> {
    const { groupId, sessionTimeoutMs, connectTimeoutMs, topic, fetchAheadBytes } = this.#options;
    // A join waits for every live member to rejoin, and for dead ones to time out.
    const rebalanceTimeout = Math.max(sessionTimeoutMs, 20_000);
    const consumer = new Consumer<string, string, string, string>({
      ...clientOptions(this.#options, memberId),
      // JoinGroup may legitimately take up to the rebalance timeout.
      requestTimeout: rebalanceTimeout + 5000,
      groupId,
      deserializers: stringDeserializers,
      autocommit: false,
      ...(this.#options.groupProtocol === 'consumer'
        ? { groupProtocol: 'consumer' as const }
        : {
            sessionTimeout: sessionTimeoutMs,
            heartbeatInterval: this.#options.heartbeatIntervalMs,
            rebalanceTimeout,
            protocols: [{ name: COOPERATIVE_STICKY_ASSIGNOR, version: 3 }],
          }),
      ...fetchOptions(fetchAheadBytes, this.#options.partitions),
    });
    const joining = consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
    const what = `cannot join consumer group "${groupId}" at ${this.#options.brokers.join(',')}`;
    try {
      const stream = await withDeadline(
        joining,
        connectTimeoutMs + sessionTimeoutMs,
        what,
        () => {},
      );
      return { consumer, stream };
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw toYadtqError(error, what);
    }
  }

  /**
   * The task topic's `retention.ms` as the broker has it (the topic may predate this
   * client, or have been changed), beside the one this client creates it with.
   * @throws YadtqError BROKER_UNAVAILABLE
   */
  async topicRetention(): Promise<TopicRetention> {
    this.#assertOpen();
    await this.#ensureTopics();
    const { topicRetentionMs, connectTimeoutMs, clientId, brokers } = this.#options;
    const topic = this.topicOf('tasks');
    const admin = new Admin(clientOptions(this.#options, `${clientId}-admin`));
    const what = `cannot read the retention of topic "${topic}" at ${brokers.join(',')}`;
    try {
      const retentionMs = await withDeadline(
        readRetentionMs(admin, topic),
        connectTimeoutMs,
        what,
        () => admin.close(),
      );
      return { topic, retentionMs, wantedMs: topicRetentionMs === -1 ? null : topicRetentionMs };
    } catch (error) {
      throw toYadtqError(error, what);
    } finally {
      await admin.close().catch(() => {});
    }
  }

  /** The newest `limit` messages of `<topic>.dlq`. @throws YadtqError BROKER_UNAVAILABLE */
  async deadLetters(limit: number): Promise<StoredMessage[]> {
    this.#assertOpen();
    await this.#ensureTopics();
    return readDeadLetters(this.#options, this.topicOf('dead-letter'), limit);
  }

  /** Closes subscriptions still open, the producer and the admin client. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<unknown>[] = [...this.#subscriptions].map((s) => s.close());
    this.#subscriptions.clear();
    if (this.#producer !== undefined) closing.push(this.#producer.close(true));
    if (this.#admin !== undefined) closing.push(this.#admin.close());
    this.#producer = undefined;
    this.#admin = undefined;
    const failed = (await Promise.allSettled(closing)).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw toYadtqError(failed.reason, 'closing the Kafka clients failed');
  }

  #assertOpen(): void {
    if (this.#closed) throw new YadtqError('CLOSED', 'the Kafka broker is closed');
  }

  /** Creates both topics once per broker; a failed attempt is forgotten so the next call tries again. */
  #ensureTopics(): Promise<void> {
    this.#topicsReady ??= this.#createTopics().catch((error: unknown) => {
      this.#topicsReady = undefined;
      throw error;
    });
    return this.#topicsReady;
  }

  async #createTopics(): Promise<void> {
    const { partitions, brokers, connectTimeoutMs, clientId } = this.#options;
    const admin = new Admin(clientOptions(this.#options, `${clientId}-admin`));
    this.#admin = admin;
    const topics = [this.topicOf('tasks'), this.topicOf('dead-letter')];
    const create = async (topic: string, replication: TopicReplication, live: number) => {
      // The task topic says how long a backlog may wait; the broker's default is not asked.
      const retention =
        topic === this.topicOf('tasks') ? [retentionConfig(this.#options.topicRetentionMs)] : [];
      try {
        await admin.createTopics({
          topics: [topic],
          partitions,
          replicas: replication.replicationFactor,
          configs: [...retention, ...topicConfigs(replication)],
        });
      } catch (error) {
        if (findErrorBy(error as Error, 'apiId', 'TOPIC_ALREADY_EXISTS')) return;
        if (findErrorBy(error as Error, 'apiId', 'INVALID_REPLICATION_FACTOR')) {
          throw new YadtqError(
            'INVALID_OPTION',
            `cannot create topic "${topic}" with ${replication.replicationFactor} replicas: the cluster at ${brokers.join(',')} reports ${live} live broker(s); start the missing brokers, or set replicationFactor (now ${JSON.stringify(this.#options.replicationFactor)})`,
            { cause: error },
          );
        }
        throw error;
      }
    };
    const setUp = async (): Promise<TopicReplication> => {
      const live = (await admin.metadata({ topics: [] })).brokers.size;
      const replication = replicationFor(this.#options, live);
      await Promise.all(topics.map((topic) => create(topic, replication, live)));
      this.#limits = await readMaxMessageBytes(admin, topics);
      return replication;
    };
    const what = `cannot reach Kafka at ${brokers.join(',')}`;
    try {
      const replication = await withDeadline(setUp(), connectTimeoutMs, what, () => admin.close());
      await this.#warnShortfalls(admin, topics, replication);
    } catch (error) {
      throw toYadtqError(error, what);
    } finally {
      if (this.#admin === admin) this.#admin = undefined;
      await admin.close().catch(() => {});
    }
  }

  /** Says what weakens the guarantees of topics that exist now; never fails the start. */
  async #warnShortfalls(
    admin: Admin,
    topics: readonly string[],
    replication: TopicReplication,
  ): Promise<void> {
    const { logger, connectTimeoutMs } = this.#options;
    try {
      const checking = replicationShortfalls(admin, topics, replication);
      const found = await withDeadline(checking, connectTimeoutMs, 'replication check', () => {});
      for (const message of found) logger.warn(message, { topics });
    } catch (error) {
      logger.warn('could not check the replication of the topics', {
        topics,
        error: (error as Error).message,
      });
    }
  }
}

/** `sized` in order, cut into runs of at most `limit` bytes (a larger message alone). */
function chunksOf(
  sized: readonly { message: BrokerMessage; bytes: number }[],
  limit: number,
): BrokerMessage[][] {
  const chunks: BrokerMessage[][] = [];
  let current: BrokerMessage[] = [];
  let bytes = 0;
  for (const item of sized) {
    if (current.length > 0 && bytes + item.bytes > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item.message);
    bytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
