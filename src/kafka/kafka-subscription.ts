import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import type { Delivery, Subscription } from '../core/broker.ts';
import { YadtqError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { mustBe, positive } from '../core/options.ts';
import { settleWithin, toYadtqError } from './client.ts';
import { FetchBuffer } from './fetch-buffer.ts';
import { OffsetCommits } from './offset-commits.ts';
import { PartitionOwnership } from './partition-ownership.ts';
import { type GroupMember, joinAgain } from './rejoin.ts';

type StringConsumer = Consumer<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;

export type { GroupMember } from './rejoin.ts';

/**
 * One member of the consumer group. It reads the consumer's message stream ahead of the
 * worker into a {@link FetchBuffer} of at most `fetchAheadBytes` (the stream keeps one
 * fetch more and fetches again only once that is read, so reading stops fetching), hands
 * out what the worker has slots for, fairly across partitions, tracks which deliveries
 * are settled and commits each owned partition up to its lowest unsettled offset, every
 * `commitIntervalMs` and once more on close. When the consumer fails (its fetches or
 * heartbeats gave up while a broker died and leaders moved), it is replaced by a new
 * member (`rejoin`, a bounded number of tries); what the old one had handed out and not
 * committed is delivered again, and the worker's claim skips it.
 */
export class KafkaSubscription implements Subscription {
  #consumer: StringConsumer;
  #stream: StringStream;
  readonly #rejoin: (() => Promise<GroupMember>) | undefined;
  readonly #logger: Logger;
  #rejoining: Promise<void> | undefined;
  /** How many times the consumer was replaced. */
  #rejoins = 0;
  readonly #topic: string;
  readonly #ownership: PartitionOwnership;
  readonly #commits: OffsetCommits;
  readonly #buffer: FetchBuffer<StringMessage>;
  readonly #timer: NodeJS.Timeout;
  readonly #onClose: () => void;
  readonly #closeTimeoutMs: number;
  #stoppedFlag = false;
  /** Wakes the take waiting now (it looks again at why). */
  #wakeUp: (() => void) | undefined;
  #takes: Promise<unknown> = Promise.resolve();
  #failure: YadtqError | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    member: GroupMember,
    options: {
      topic: string;
      commitIntervalMs: number;
      closeTimeoutMs: number;
      /** Bytes of fetched messages held ahead of the worker before reading (and fetching) pauses. */
      fetchAheadBytes: number;
      /** Joins the group again with a new consumer; without it a failed consumer ends the subscription. */
      rejoin?: () => Promise<GroupMember>;
      logger?: Logger;
      onClose?: () => void;
    },
  ) {
    this.#onClose = options.onClose ?? (() => {});
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#rejoin = options.rejoin;
    this.#logger = options.logger ?? silentLogger;
    this.#topic = options.topic;
    this.#ownership = new PartitionOwnership(options.topic);
    this.#commits = new OffsetCommits(options.topic, (p) => this.#ownership.owns(p));
    this.#buffer = new FetchBuffer(options.fetchAheadBytes);
    this.#consumer = member.consumer;
    this.#stream = member.stream;
    this.#attach(member);
    this.#timer = setInterval(() => this.#commit(), options.commitIntervalMs);
  }

  /** How many times a failed consumer was replaced by a new member. */
  get rejoins(): number {
    return this.#rejoins;
  }

  /** Bytes and count of the messages read ahead and not handed out yet. */
  get buffered(): { bytes: number; messages: number } {
    return { bytes: this.#buffer.bytes, messages: this.#buffer.size };
  }

  #attach(member: GroupMember): void {
    this.#consumer = member.consumer;
    this.#stream = member.stream;
    this.#syncAssignment();
    member.consumer.on('consumer:group:join', this.#onJoin);
    member.consumer.on('consumer:group:rebalance', this.#onRebalance);
    member.consumer.on('error', this.#onError);
    member.stream.on('error', this.#onError);
    member.stream.on('readable', this.#fill);
    member.stream.on('end', this.#onEnd);
    this.#fill();
  }

  #detach(): void {
    this.#consumer.off('consumer:group:join', this.#onJoin);
    this.#consumer.off('consumer:group:rebalance', this.#onRebalance);
    this.#consumer.off('error', this.#onError);
    this.#stream.off('error', this.#onError);
    this.#stream.off('readable', this.#fill);
    this.#stream.off('end', this.#onEnd);
    // A late error of the old member must not end anything.
    this.#consumer.on('error', () => {});
    this.#stream.on('error', () => {});
  }

  /** The partitions of the task topic this member owns now, ascending. */
  assignment(): readonly number[] {
    this.#syncAssignment();
    return this.#ownership.partitions();
  }

  /**
   * Up to `max` deliveries as soon as there is one, round robin across partitions and in
   * offset order within each; what is left stays buffered for the next call. Empty once
   * the subscription closed. Calls are served one at a time, in order.
   * @throws YadtqError BROKER_UNAVAILABLE once consuming failed for good
   */
  take(max: number): Promise<readonly Delivery[]> {
    if (!positive.accepts(max)) {
      return Promise.reject(new YadtqError('INVALID_ARGS', mustBe('take(max)', positive, max)));
    }
    const taking = this.#takes.then(() => this.#take(max));
    this.#takes = taking.catch(() => {});
    return taking;
  }

  /** Stops fetching, ends a waiting take, commits what is settled and leaves the group. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#onClose();
    clearInterval(this.#timer);
    this.#stopNow();
    this.#buffer.clear();
    if (this.#rejoining !== undefined) await settleWithin(this.#rejoining, this.#closeTimeoutMs);
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
    this.#stream.off('readable', this.#fill);
    await this.#stream.close().catch(() => {});
    await this.#commits.settledCommit();
    this.#commit(true);
    await this.#commits.settledCommit();
  }

  #stopNow(): void {
    this.#stoppedFlag = true;
    this.#wake();
  }

  #wake(): void {
    const wake = this.#wakeUp;
    this.#wakeUp = undefined;
    wake?.();
  }

  async #take(max: number): Promise<readonly Delivery[]> {
    for (;;) {
      if (this.#closing !== undefined) return [];
      if (this.#rejoining !== undefined) {
        await this.#rejoining;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure;
      const deliveries = this.#handOut(max);
      // What was taken made room: read on, which lets the stream fetch again.
      this.#fill();
      if (deliveries.length > 0) return deliveries;
      if (this.#buffer.size > 0 || this.#stoppedFlag) continue;
      await new Promise<void>((resolve) => {
        this.#wakeUp = resolve;
      });
    }
  }

  /** Up to `max` deliveries from the buffer, skipping what is not this member's to hand out. */
  #handOut(max: number): Delivery[] {
    this.#syncAssignment();
    const deliveries: Delivery[] = [];
    while (deliveries.length < max && this.#buffer.size > 0) {
      for (const message of this.#buffer.take(max - deliveries.length)) {
        const delivery = this.#accept(message);
        if (delivery !== undefined) deliveries.push(delivery);
      }
    }
    return deliveries;
  }

  /**
   * Reads fetched messages into the buffer while it has room. The stream holds what one
   * fetch returned and fetches again only once that is read (its high-water mark is one
   * message), so a full buffer pauses fetching and taking from it resumes it.
   */
  readonly #fill = (): void => {
    if (this.#stoppedFlag || this.#rejoining !== undefined) return;
    // A message dropped here is never handed out: a partition assigned since the last look
    // must count as owned already, or the commit would move past what was dropped.
    this.#syncAssignment();
    const before = this.#buffer.size;
    while (this.#buffer.hasRoom) {
      const message = this.#stream.read() as StringMessage | null;
      if (message === null) break;
      if (this.#fetchedForNow(message))
        this.#buffer.push(message.partition, message, sizeOf(message));
    }
    if (this.#buffer.size > before) this.#wake();
  };

  readonly #onEnd = (): void => {
    if (this.#closing !== undefined) return;
    this.#failed(new Error('the message stream ended'), 'consuming from Kafka stopped');
  };

  /** Whether `message` is of an owned partition, fetched since this member (re)gained it. */
  #fetchedForNow(message: StringMessage): boolean {
    if (message.topic !== this.#topic) return false;
    const acquiredIn = this.#ownership.acquiredIn(message.partition);
    // Fetched before the partition was lost and regained: the new fetch position rules.
    return acquiredIn !== undefined && generationOf(message) >= acquiredIn;
  }

  /** The delivery for `message`, or undefined when it is not this member's to hand out. */
  #accept(message: StringMessage): Delivery | undefined {
    if (!this.#fetchedForNow(message)) return undefined;
    const { partition } = message;
    const offset = Number(message.offset);
    if (!this.#ownership.handOut(partition, offset)) return undefined;
    this.#commits.delivered(partition, offset);
    const epoch = this.#ownership.epoch(partition);
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
        if (this.#ownership.epoch(partition) === epoch) this.#commits.settled(partition, offset);
      },
      isOwned: () => {
        if (this.#closing !== undefined) return false;
        this.#syncAssignment();
        return this.#ownership.owns(partition) && this.#ownership.epoch(partition) === epoch;
      },
    };
  }

  /** Brings the owned partitions in line with the consumer's current assignment. */
  #syncAssignment(): void {
    const lost = this.#ownership.sync(this.#consumer.assignments, this.#consumer.generationId);
    if (lost.length > 0) this.#dropLost(lost);
  }

  /** Lost partitions: their unsettled and buffered messages go to the new owner. */
  #dropLost(partitions: number[]): void {
    const pending = this.#stream.offsetsToCommit;
    for (const partition of partitions) pending.delete(`${this.#topic}:${partition}`);
    this.#commits.forget(partitions);
    this.#buffer.drop(partitions);
  }

  #commit(final = false): void {
    if (this.#closing !== undefined && !final) return;
    this.#syncAssignment();
    this.#commits.commit(this.#consumer);
  }

  readonly #onJoin = (): void => {
    this.#syncAssignment();
  };

  /**
   * A rebalance is starting (or has just revoked partitions). The client flushes its stream's
   * pending commits before it gives partitions up, so settled offsets are queued there now.
   */
  readonly #onRebalance = (): void => {
    this.#syncAssignment();
    this.#commits.queueOn(this.#stream.offsetsToCommit);
  };

  readonly #onError = (error: unknown): void => {
    this.#failed(error, 'the Kafka consumer failed');
  };

  /** The consumer failed: a new member takes over when that may help, else the subscription ends. */
  #failed(error: unknown, what: string): void {
    if (this.#closing !== undefined || this.#failure !== undefined) return;
    const failure = toYadtqError(error, what);
    if (this.#rejoin === undefined || !failure.retriable) {
      this.#failure = failure;
      this.#stopNow();
      return;
    }
    this.#rejoining ??= this.#replaceConsumer(failure, this.#rejoin).finally(() => {
      this.#rejoining = undefined;
      this.#fill();
      this.#wake();
    });
    this.#wake();
  }

  async #replaceConsumer(failure: YadtqError, rejoin: () => Promise<GroupMember>): Promise<void> {
    this.#logger.warn('the Kafka consumer failed; joining the group again with a new one', {
      topic: this.#topic,
      error: failure.message,
    });
    const old = this.#consumer;
    this.#detach();
    // What the old member handed out or read ahead no longer counts: its partitions come
    // back, from their last commit, to whichever member owns them next.
    const lost = this.#ownership.partitions();
    this.#ownership.forget(lost);
    this.#dropLost(lost);
    this.#buffer.clear();
    await settleWithin(old.close(true), this.#closeTimeoutMs);
    try {
      const joined = await joinAgain(failure, rejoin, () => this.#closing !== undefined);
      if (joined === undefined) return;
      this.#rejoins++;
      this.#logger.info('joined the consumer group again', {
        topic: this.#topic,
        attempt: joined.attempt,
      });
      this.#attach(joined.member);
    } catch (error) {
      this.#failure = error as YadtqError;
      this.#stopNow();
    }
  }
}

/** The group generation the client was in when it fetched `message`. */
function generationOf(message: StringMessage): number {
  const consumer = message.metadata.consumer as { generationId?: unknown } | undefined;
  return typeof consumer?.generationId === 'number'
    ? consumer.generationId
    : Number.MAX_SAFE_INTEGER;
}

/** The size the fetch-ahead bound counts: key, value and headers, in UTF-16 code units. */
function sizeOf(message: StringMessage): number {
  let size = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [key, value] of message.headerEntries)
    size += (key?.length ?? 0) + (value?.length ?? 0);
  return size;
}
