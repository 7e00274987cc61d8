/** A message to produce: key (partitioning), value (the JSON envelope) and headers. */
export interface BrokerMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
  /** An explicit partition of the task topic (else the key decides). */
  partition?: number;
}

/** A message as read back from a topic. */
export interface StoredMessage extends BrokerMessage {
  partition: number;
  offset: number;
  /** When the broker appended it (ms since the epoch), where known. */
  timestamp?: number;
}

/** Where a message goes: the task topic, or its dead-letter topic `<topic>.dlq`. */
export type Destination = 'tasks' | 'dead-letter';

/** One message handed to a worker. The worker settles each delivery exactly once. */
export interface Delivery {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition: number;
  readonly offset: number;
  /**
   * Marks the delivery done: the broker may make it durable (commit past it) once every
   * earlier delivery of its partition is settled too. Calling it twice does nothing.
   * A delivery never settled is handed out again once its partition has a new owner
   * (after a rebalance, or after its subscription closed).
   */
  settle(): void;
  /**
   * False once this member lost the delivery's partition (a rebalance, or its subscription
   * closed): settling it no longer counts, and the partition's next owner gets it again.
   */
  isOwned(): boolean;
}

/**
 * A worker's membership of the consumer group. Deliveries come in batches of what the
 * broker has fetched, as many as the worker has slots for: the rest stays with the
 * subscription for the next {@link take}, so nothing is handed out that no slot waits for.
 * Each delivery of a batch is still settled on its own.
 */
export interface Subscription {
  /**
   * Resolves as soon as at least one delivery is ready (a lone message is not held back
   * to fill a batch) with up to `max` of them: round robin across partitions, so one
   * partition's backlog cannot starve the others, and in offset order within each.
   * Resolves with an empty batch once the subscription is closed. Calls are served one at
   * a time, in the order made.
   * @throws YadtqError INVALID_ARGS when `max` is not a whole number ≥ 1; BROKER_UNAVAILABLE
   * once consuming failed for good
   */
  take(max: number): Promise<readonly Delivery[]>;
  /** The partitions this member owns now. */
  assignment(): readonly number[];
  /** Stops fetching, makes settled deliveries durable, and leaves the group at once. */
  close(): Promise<void>;
}

/** The retention of the task topic as the broker has it, and what this client asks for. */
export interface TopicRetention {
  topic: string;
  /** The topic's `retention.ms`; null when unlimited. */
  retentionMs: number | null;
  /** The retention this client creates the topic with; null for unlimited. */
  wantedMs: number | null;
}

/**
 * The task log. Implementations: Kafka consumer groups (`kafka/`) and in-process memory
 * (`memory/`). Topics are created on first use with the configured partition count.
 */
export interface Broker {
  /**
   * Resolves once the broker acknowledged every message (acks=all for Kafka). A message
   * to 'dead-letter' always fits the topic's size limit: one that would not is cut down
   * to fit ({@link fitDeadLetter}), so a dead-letter copy can never be refused for size.
   * @throws YadtqError PAYLOAD_TOO_LARGE when a task message is over the topic's limit
   */
  produce(destination: Destination, messages: readonly BrokerMessage[]): Promise<void>;
  /** The newest `limit` messages of the dead-letter topic, oldest first. */
  deadLetters(limit: number): Promise<StoredMessage[]>;
  /** Joins the consumer group as `memberId`. */
  subscribe(memberId: string): Promise<Subscription>;
  /** The task topic's retention, for a log that deletes old messages (Kafka). */
  topicRetention?(): Promise<TopicRetention>;
  /** Releases connections; open subscriptions should be closed first. */
  close(): Promise<void>;
}
