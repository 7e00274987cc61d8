import type { CommitOptionsPartition } from '@platformatic/kafka';
import { OffsetTracker } from '../core/offset-tracker.ts';

/** What committing needs of the Kafka consumer. */
export interface Committer {
  isActive(): boolean;
  commit(options: { offsets: CommitOptionsPartition[] }): Promise<void>;
}

/**
 * The commit side of a group member: which deliveries are out and which are settled
 * ({@link OffsetTracker}), and the commit point of each owned partition, its lowest
 * unsettled offset, sent to Kafka in one request per call to {@link commit}.
 */
export class OffsetCommits {
  readonly #topic: string;
  readonly #owns: (partition: number) => boolean;
  readonly #tracker = new OffsetTracker();
  /** partition → commit point taken from the tracker and not yet acknowledged by Kafka. */
  readonly #toCommit = new Map<number, number>();
  #committing: Promise<void> | undefined;

  /** @param owns whether a partition is still this member's (only those are committed) */
  constructor(topic: string, owns: (partition: number) => boolean) {
    this.#topic = topic;
    this.#owns = owns;
  }

  /** Records that `offset` of `partition` was handed out. */
  delivered(partition: number, offset: number): void {
    this.#tracker.delivered(partition, offset);
  }

  /** Records that `offset` of `partition` is settled. */
  settled(partition: number, offset: number): void {
    this.#tracker.settled(partition, offset);
  }

  /** Forgets lost partitions: nothing of theirs is committed any more. */
  forget(partitions: readonly number[]): void {
    for (const partition of partitions) this.#toCommit.delete(partition);
    this.#tracker.forget(partitions);
  }

  /** Resolves once the commit under way (if any) has ended. */
  async settledCommit(): Promise<void> {
    await this.#committing;
  }

  /**
   * Sends the commit points that moved, unless a commit is under way or `consumer` is
   * between memberships (a commit then fails and makes the client rejoin again); a failed
   * commit is tried again on the next call.
   */
  commit(consumer: Committer): void {
    if (this.#committing !== undefined || !consumer.isActive()) return;
    this.#collect();
    if (this.#toCommit.size === 0) return;
    const sent = [...this.#toCommit];
    const offsets = sent.map(([partition, offset]) => this.#entry(partition, offset));
    this.#committing = consumer
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

  /**
   * Puts the commit points into the stream's pending commits, which the client flushes
   * before it gives partitions up in a rebalance: the one moment a commit for a
   * partition about to move is still accepted.
   */
  queueOn(pending: Map<string, CommitOptionsPartition>): void {
    this.#collect();
    for (const [partition, offset] of this.#toCommit) {
      const key = `${this.#topic}:${partition}`;
      const queued = pending.get(key);
      if (queued === undefined || queued.offset < BigInt(offset)) {
        pending.set(key, this.#entry(partition, offset));
      }
    }
  }

  /** Moves the tracker's new commit points of owned partitions into {@link #toCommit}. */
  #collect(): void {
    for (const [partition, offset] of this.#tracker.takeCommits()) {
      if (this.#owns(partition)) this.#toCommit.set(partition, offset);
    }
  }

  #entry(partition: number, offset: number): CommitOptionsPartition {
    return { topic: this.#topic, partition, offset: BigInt(offset), leaderEpoch: -1 };
  }
}
