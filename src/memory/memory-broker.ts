import type {
  Broker,
  BrokerMessage,
  Delivery,
  Destination,
  StoredMessage,
  Subscription,
} from '../core/broker.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import { OffsetTracker } from '../core/offset-tracker.ts';
import { mustBe, optional, positive, wholeNumber } from '../core/options.ts';
import type { LagSnapshot } from '../core/stats.ts';

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Partitions of the task topic. Default `DEFAULTS.partitions`. */
  partitions?: number;
}

/**
 * An in-process task log that behaves like one Kafka consumer group: messages are
 * partitioned by key, partitions are shared among the subscribed members, and a
 * partition's committed offset only moves past settled deliveries, so whatever was
 * not settled when its owner left is delivered again to the next owner.
 */
export class MemoryBroker implements Broker {
  readonly partitions: number;
  #logs = new Map<Destination, StoredMessage[][]>();
  #committed: number[];
  #members: MemorySubscription[] = [];

  constructor(options: MemoryBrokerOptions = {}) {
    this.partitions = optional(
      'partitions',
      options.partitions,
      wholeNumber(1),
      DEFAULTS.partitions,
    );
    this.#committed = new Array(this.partitions).fill(0);
    for (const destination of ['tasks', 'dead-letter'] as const) {
      this.#logs.set(
        destination,
        Array.from({ length: this.partitions }, () => []),
      );
    }
  }

  async produce(destination: Destination, messages: readonly BrokerMessage[]): Promise<void> {
    const log = this.#logs.get(destination)!;
    for (const message of messages) {
      const partition =
        message.partition !== undefined &&
        message.partition >= 0 &&
        message.partition < this.partitions
          ? message.partition
          : partitionOf(message.key, this.partitions);
      const entries = log[partition]!;
      entries.push({
        ...message,
        headers: { ...message.headers },
        partition,
        offset: entries.length,
        timestamp: Date.now(),
      });
    }
    if (destination === 'tasks') for (const member of this.#members) member.wake();
  }

  async subscribe(memberId: string): Promise<Subscription> {
    const member = new MemorySubscription(memberId, this);
    this.#members.push(member);
    this.#rebalance();
    return member;
  }

  async close(): Promise<void> {
    for (const member of [...this.#members]) await member.close();
  }

  async deadLetters(limit: number): Promise<StoredMessage[]> {
    const all = this.messages('dead-letter').sort(
      (a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0),
    );
    return all.slice(-limit);
  }

  /** Every message stored for `destination`, in partition then offset order. */
  messages(destination: Destination): StoredMessage[] {
    return this.#logs.get(destination)!.flat();
  }

  /**
   * Consumer lag per partition of the task log, which member owns each partition, and
   * the age of the oldest message not yet committed (the memory log never deletes one).
   */
  async lag(): Promise<LagSnapshot> {
    const owners = new Map<number, string>();
    for (const member of this.#members)
      for (const p of member.assignment()) owners.set(p, member.memberId);
    const now = Date.now();
    const partitions = this.#logs.get('tasks')!.map((entries, partition) => {
      const committedOffset = this.#committed[partition]!;
      const oldest = entries[committedOffset]?.timestamp;
      return {
        partition,
        endOffset: entries.length,
        committedOffset,
        lag: entries.length - committedOffset,
        owner: owners.get(partition) ?? null,
        oldestAgeMs: oldest === undefined ? null : now - oldest,
        nearRetention: false,
      };
    });
    const total = partitions.reduce((sum, p) => sum + p.lag, 0);
    return { topic: 'memory', group: 'memory', partitions, total, retentionMs: null };
  }

  /** @internal */
  message(partition: number, offset: number): StoredMessage | undefined {
    return this.#logs.get('tasks')![partition]![offset];
  }

  /** @internal */
  committed(partition: number): number {
    return this.#committed[partition]!;
  }

  /** @internal */
  commit(partition: number, offset: number): void {
    if (offset > this.#committed[partition]!) this.#committed[partition] = offset;
  }

  /** @internal */
  leave(member: MemorySubscription): void {
    this.#members = this.#members.filter((m) => m !== member);
    this.#rebalance();
  }

  #rebalance(): void {
    const owners = new Map<MemorySubscription, number[]>(this.#members.map((m) => [m, []]));
    for (let p = 0; p < this.partitions && this.#members.length > 0; p++) {
      owners.get(this.#members[p % this.#members.length]!)!.push(p);
    }
    for (const [member, partitions] of owners) member.assign(partitions);
  }
}

class MemorySubscription implements Subscription {
  #broker: MemoryBroker;
  #memberId: string;
  #owned: number[] = [];
  #positions = new Map<number, number>();
  #tracker = new OffsetTracker();
  #cursor = 0;
  #closed = false;
  #wakeUp: (() => void) | null = null;
  #takes: Promise<unknown> = Promise.resolve();

  constructor(memberId: string, broker: MemoryBroker) {
    this.#memberId = memberId;
    this.#broker = broker;
  }

  get memberId(): string {
    return this.#memberId;
  }

  assignment(): readonly number[] {
    return [...this.#owned];
  }

  assign(partitions: number[]): void {
    const revoked = this.#owned.filter((p) => !partitions.includes(p));
    this.#tracker.forget(revoked);
    for (const p of revoked) this.#positions.delete(p);
    for (const p of partitions) {
      if (!this.#positions.has(p)) this.#positions.set(p, this.#broker.committed(p));
    }
    this.#owned = partitions;
    this.wake();
  }

  wake(): void {
    this.#wakeUp?.();
    this.#wakeUp = null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#broker.leave(this);
    this.wake();
  }

  /** Up to `max` deliveries as soon as there is one, round robin across partitions. */
  take(max: number): Promise<readonly Delivery[]> {
    if (!positive.accepts(max)) {
      return Promise.reject(new YadtqError('INVALID_ARGS', mustBe('take(max)', positive, max)));
    }
    const taking = this.#takes.then(() => this.#take(max));
    this.#takes = taking.catch(() => {});
    return taking;
  }

  async #take(max: number): Promise<readonly Delivery[]> {
    while (!this.#closed) {
      const deliveries: Delivery[] = [];
      for (let next = this.#nextDelivery(); next !== undefined; next = this.#nextDelivery()) {
        deliveries.push(next);
        if (deliveries.length === max) break;
      }
      if (deliveries.length > 0) return deliveries;
      await new Promise<void>((resolve) => {
        this.#wakeUp = resolve;
      });
    }
    return [];
  }

  #nextDelivery(): Delivery | undefined {
    for (let i = 0; i < this.#owned.length; i++) {
      const partition = this.#owned[(this.#cursor + i) % this.#owned.length]!;
      const position = this.#positions.get(partition)!;
      const message = this.#broker.message(partition, position);
      if (message === undefined) continue;
      this.#cursor = (this.#cursor + i + 1) % this.#owned.length;
      this.#positions.set(partition, position + 1);
      this.#tracker.delivered(partition, position);
      return this.#delivery(message);
    }
    return undefined;
  }

  #delivery(message: StoredMessage): Delivery {
    const { partition, offset } = message;
    return {
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
      partition,
      offset,
      settle: () => {
        if (!this.#tracker.settled(partition, offset)) return;
        const point = this.#tracker.commitPoint(partition);
        if (point !== undefined) this.#broker.commit(partition, point);
      },
      isOwned: () => !this.#closed && this.#owned.includes(partition),
    };
  }

  toString(): string {
    return `MemorySubscription(${this.#memberId})`;
  }
}

/** FNV-1a of the key, so one key always lands on the same partition. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
