import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import type { Delivery, Subscription } from '../core/broker.ts';
import type { YadtqError } from '../core/errors.ts';
import { OffsetTracker } from '../core/offset-tracker.ts';
import { settleWithin, toYadtqError } from './client.ts';

type StringConsumer = Consumer<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const STOPPED = Symbol('stopped');

/**
 * One member of the consumer group: turns the consumer's message stream into deliveries,
 * tracks which of them are settled and commits each owned partition up to its lowest
 * unsettled offset, every `commitIntervalMs` and once more on close.
 */
export class KafkaSubscription implements Subscription {
  readonly #consumer: StringConsumer;
  readonly #stream: MessagesStream<string, string, string, string>;
  readonly #messages: AsyncIterator<StringMessage>;
  readonly #topic: string;
  readonly #tracker = new OffsetTracker();
  /** partition → the group generation in which this member (re)gained it. */
  readonly #owned = new Map<number, number>();
  /** partition → bumped on every loss, so settling a delivery from before the loss is ignored. */
  readonly #epochs = new Map<number, number>();
  /** partition → next offset not handed out yet; a rebalance makes the client fetch again from the last commit. */
  readonly #handedOut = new Map<number, number>();
  /** partition → commit point taken from the tracker and not yet acknowledged by Kafka. */
  readonly #toCommit = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #onClose: () => void;
  readonly #closeTimeoutMs: number;
  #stoppedFlag = false;
  /** Wakes the pulls waiting now; each pull makes its own (a long-lived promise raced
   * once per message would keep a reaction, and so the message, for every pull). */
  readonly #stopWaiters = new Set<() => void>();
  #pulls: Promise<unknown> = Promise.resolve();
  #committing: Promise<void> | undefined;
  #failure: YadtqError | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    consumer: StringConsumer,
    stream: MessagesStream<string, string, string, string>,
    options: {
      topic: string;
      commitIntervalMs: number;
      closeTimeoutMs: number;
      onClose?: () => void;
    },
  ) {
    this.#onClose = options.onClose ?? (() => {});
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#consumer = consumer;
    this.#stream = stream;
    this.#topic = options.topic;
    this.#messages = stream[Symbol.asyncIterator]();
    this.#syncAssignment();
    consumer.on('consumer:group:join', this.#onJoin);
    consumer.on('consumer:group:rebalance', this.#onRebalance);
    consumer.on('error', this.#onError);
    stream.on('error', this.#onError);
    this.#timer = setInterval(() => this.#commit(), options.commitIntervalMs);
  }

  /** The partitions of the task topic this member owns now, ascending. */
  assignment(): readonly number[] {
    this.#syncAssignment();
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /** Deliveries in offset order per partition; ends when the subscription closes. */
  [Symbol.asyncIterator](): AsyncIterator<Delivery> {
    return {
      next: () => {
        // One pull at a time, whatever the caller does, so deliveries keep offset order.
        const pull = this.#pulls.then(() => this.#pull());
        this.#pulls = pull.catch(() => {});
        return pull;
      },
      // Leaving a `for await` loop early does not close the subscription: close() does.
      return: async () => DONE,
    };
  }

  /** Stops fetching, ends the iteration, commits what is settled and leaves the group. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#onClose();
    clearInterval(this.#timer);
    this.#stopNow();
    // With Kafka gone the client would retry for a long while; leaving must not wait on it.
    await settleWithin(this.#drain(), this.#closeTimeoutMs);
    this.#consumer.off('consumer:group:join', this.#onJoin);
    this.#consumer.off('consumer:group:rebalance', this.#onRebalance);
    try {
      await this.#consumer.close(true);
    } catch (error) {
      throw toYadtqError(error, 'leaving the consumer group failed');
    }
  }

  /** Stops fetching and commits what is settled, while this member is still in the group. */
  async #drain(): Promise<void> {
    await this.#stream.close().catch(() => {});
    await this.#committing;
    this.#commit(true);
    await this.#committing;
  }

  #stopNow(): void {
    this.#stoppedFlag = true;
    for (const wake of this.#stopWaiters) wake();
    this.#stopWaiters.clear();
  }

  async #nextOrStopped(): Promise<IteratorResult<StringMessage> | typeof STOPPED> {
    if (this.#stoppedFlag) return STOPPED;
    let wake: () => void = () => {};
    const stopped = new Promise<typeof STOPPED>((resolve) => {
      wake = () => resolve(STOPPED);
    });
    this.#stopWaiters.add(wake);
    try {
      return await Promise.race([this.#messages.next(), stopped]);
    } finally {
      this.#stopWaiters.delete(wake);
    }
  }

  async #pull(): Promise<IteratorResult<Delivery>> {
    for (;;) {
      if (this.#closing !== undefined) return DONE;
      if (this.#failure !== undefined) throw this.#failure;
      let next: IteratorResult<StringMessage> | typeof STOPPED;
      try {
        next = await this.#nextOrStopped();
      } catch (error) {
        this.#failure ??= toYadtqError(error, 'consuming from Kafka failed');
        continue;
      }
      if (next === STOPPED) continue;
      if (next.done) return DONE;
      const delivery = this.#accept(next.value);
      if (delivery !== undefined) return { done: false, value: delivery };
    }
  }

  /** The delivery for `message`, or undefined when it is not this member's to hand out. */
  #accept(message: StringMessage): Delivery | undefined {
    this.#syncAssignment();
    const { partition } = message;
    const acquiredIn = this.#owned.get(partition);
    if (message.topic !== this.#topic || acquiredIn === undefined) return undefined;
    // Fetched before the partition was lost and regained: the new fetch position rules.
    if (generationOf(message) < acquiredIn) return undefined;
    const offset = Number(message.offset);
    if (offset < (this.#handedOut.get(partition) ?? 0)) return undefined;
    this.#handedOut.set(partition, offset + 1);
    this.#tracker.delivered(partition, offset);
    const epoch = this.#epochs.get(partition) ?? 0;
    let settled = false;
    const headers: Record<string, string> = {};
    for (const [key, value] of message.headerEntries) {
      if (key !== undefined) headers[key] = value ?? '';
    }
    return {
      key: message.key ?? null,
      value: message.value ?? '',
      headers,
      partition,
      offset,
      settle: () => {
        if (settled) return;
        settled = true;
        if ((this.#epochs.get(partition) ?? 0) === epoch) this.#tracker.settled(partition, offset);
      },
      isOwned: () => {
        if (this.#closing !== undefined) return false;
        this.#syncAssignment();
        return this.#owned.has(partition) && (this.#epochs.get(partition) ?? 0) === epoch;
      },
    };
  }

  /** Brings the owned partitions in line with the consumer's current assignment. */
  #syncAssignment(): void {
    const current = new Set<number>();
    for (const { topic, partitions } of this.#consumer.assignments ?? []) {
      if (topic === this.#topic) for (const partition of partitions) current.add(partition);
    }
    const lost = [...this.#owned.keys()].filter((partition) => !current.has(partition));
    for (const partition of current) {
      if (!this.#owned.has(partition)) this.#owned.set(partition, this.#consumer.generationId);
    }
    if (lost.length > 0) this.#forget(lost);
  }

  /** Drops lost partitions: their unsettled messages go to the new owner. */
  #forget(partitions: number[]): void {
    const pending = this.#stream.offsetsToCommit;
    for (const partition of partitions) {
      this.#owned.delete(partition);
      this.#handedOut.delete(partition);
      this.#toCommit.delete(partition);
      this.#epochs.set(partition, (this.#epochs.get(partition) ?? 0) + 1);
      pending.delete(`${this.#topic}:${partition}`);
    }
    this.#tracker.forget(partitions);
  }

  /** Moves the tracker's new commit points of owned partitions into {@link #toCommit}. */
  #collect(): void {
    for (const [partition, offset] of this.#tracker.takeCommits()) {
      if (this.#owned.has(partition)) this.#toCommit.set(partition, offset);
    }
  }

  /** Commits the collected points; a failed commit is tried again on the next tick. */
  #commit(final = false): void {
    if (this.#committing !== undefined || (this.#closing !== undefined && !final)) return;
    // Mid-rejoin a commit fails and makes the client rejoin again; wait for the next tick.
    if (!this.#consumer.isActive()) return;
    this.#syncAssignment();
    this.#collect();
    if (this.#toCommit.size === 0) return;
    const sent = [...this.#toCommit];
    const offsets = sent.map(([partition, offset]) => ({
      topic: this.#topic,
      partition,
      offset: BigInt(offset),
      leaderEpoch: -1,
    }));
    this.#committing = this.#consumer
      .commit({ offsets })
      .then(
        () => {
          for (const [partition, offset] of sent) {
            if (this.#toCommit.get(partition) === offset) this.#toCommit.delete(partition);
          }
        },
        () => {},
      )
      .finally(() => {
        this.#committing = undefined;
      });
  }

  readonly #onJoin = (): void => {
    this.#syncAssignment();
  };

  /**
   * A rebalance is starting (or has just revoked partitions). The client flushes its stream's
   * pending commits before it gives partitions up, so settled offsets are queued there now:
   * that is the one moment a commit for a partition about to move is still accepted.
   */
  readonly #onRebalance = (): void => {
    this.#syncAssignment();
    this.#collect();
    const pending = this.#stream.offsetsToCommit;
    for (const [partition, offset] of this.#toCommit) {
      const key = `${this.#topic}:${partition}`;
      const queued = pending.get(key);
      if (queued === undefined || queued.offset < BigInt(offset)) {
        pending.set(key, {
          topic: this.#topic,
          partition,
          offset: BigInt(offset),
          leaderEpoch: -1,
        });
      }
    }
  };

  readonly #onError = (error: unknown): void => {
    if (this.#closing !== undefined) return;
    this.#failure ??= toYadtqError(error, 'the Kafka consumer failed');
    this.#stopNow();
  };
}

/** The group generation the client was in when it fetched `message`. */
function generationOf(message: StringMessage): number {
  const consumer = message.metadata.consumer as { generationId?: unknown } | undefined;
  return typeof consumer?.generationId === 'number'
    ? consumer.generationId
    : Number.MAX_SAFE_INTEGER;
}
