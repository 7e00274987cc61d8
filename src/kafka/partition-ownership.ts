/** A consumer's assignment as the Kafka client reports it. */
export interface Assignment {
  topic: string;
  partitions: number[];
}

/**
 * Which partitions of the task topic this group member owns, since which group generation,
 * and how far each was handed out. Every loss bumps the partition's epoch, so a delivery
 * from before the loss is told apart from one handed out after it was regained.
 */
export class PartitionOwnership {
  readonly #topic: string;
  /** partition → the group generation in which this member (re)gained it. */
  readonly #owned = new Map<number, number>();
  /** partition → bumped on every loss, so settling a delivery from before the loss is ignored. */
  readonly #epochs = new Map<number, number>();
  /** partition → next offset not handed out yet; a rebalance makes the client fetch again from the last commit. */
  readonly #handedOut = new Map<number, number>();

  constructor(topic: string) {
    this.#topic = topic;
  }

  /**
   * Brings the owned partitions in line with `assignments` (of group generation
   * `generationId`); returns the partitions lost, which are forgotten already.
   */
  sync(assignments: readonly Assignment[] | null | undefined, generationId: number): number[] {
    const current = new Set<number>();
    for (const { topic, partitions } of assignments ?? []) {
      if (topic === this.#topic) for (const partition of partitions) current.add(partition);
    }
    const lost = [...this.#owned.keys()].filter((partition) => !current.has(partition));
    for (const partition of current) {
      if (!this.#owned.has(partition)) this.#owned.set(partition, generationId);
    }
    this.forget(lost);
    return lost;
  }

  /** Drops `partitions` as lost: their epochs move on, their hand-out positions are gone. */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) {
      this.#owned.delete(partition);
      this.#handedOut.delete(partition);
      this.#epochs.set(partition, this.epoch(partition) + 1);
    }
  }

  /** Whether `partition` is owned now. */
  owns(partition: number): boolean {
    return this.#owned.has(partition);
  }

  /** The owned partitions, ascending. */
  partitions(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /** The group generation `partition` was (re)gained in; undefined when not owned. */
  acquiredIn(partition: number): number | undefined {
    return this.#owned.get(partition);
  }

  /** How many times `partition` was lost. */
  epoch(partition: number): number {
    return this.#epochs.get(partition) ?? 0;
  }

  /**
   * Records `offset` of `partition` as handed out; false when it was handed out already
   * (a fetch that overlapped an earlier one), and then it must not be handed out again.
   */
  handOut(partition: number, offset: number): boolean {
    if (offset < (this.#handedOut.get(partition) ?? 0)) return false;
    this.#handedOut.set(partition, offset + 1);
    return true;
  }
}
