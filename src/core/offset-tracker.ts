/**
 * Tracks deliveries of each partition that are out for processing, so a broker can
 * commit up to (not past) the lowest unsettled offset: everything below the commit
 * point is done, whatever order the tasks finished in.
 */
export class OffsetTracker {
  /** partition → offsets delivered and not yet settled. */
  #pending = new Map<number, Set<number>>();
  /** partition → next offset after the highest delivered one. */
  #next = new Map<number, number>();
  /** partition → the last commit point handed out by {@link takeCommits}. */
  #committed = new Map<number, number>();

  /** Records that `offset` of `partition` was handed to the worker. */
  delivered(partition: number, offset: number): void {
    let pending = this.#pending.get(partition);
    if (pending === undefined) {
      pending = new Set();
      this.#pending.set(partition, pending);
    }
    pending.add(offset);
    if (offset + 1 > (this.#next.get(partition) ?? 0)) this.#next.set(partition, offset + 1);
  }

  /** Records that `offset` is settled; false when it was not pending (a second settle). */
  settled(partition: number, offset: number): boolean {
    return this.#pending.get(partition)?.delete(offset) ?? false;
  }

  /** The offset a commit may name for `partition` now (the next one to read), if any. */
  commitPoint(partition: number): number | undefined {
    const next = this.#next.get(partition);
    if (next === undefined) return undefined;
    let lowest = next;
    for (const offset of this.#pending.get(partition) ?? []) if (offset < lowest) lowest = offset;
    return lowest;
  }

  /** Commit points that moved since the last call, as `[partition, offset]` pairs. */
  takeCommits(): Array<[number, number]> {
    const moved: Array<[number, number]> = [];
    for (const partition of this.#next.keys()) {
      const point = this.commitPoint(partition);
      if (point !== undefined && point !== this.#committed.get(partition)) {
        moved.push([partition, point]);
        this.#committed.set(partition, point);
      }
    }
    return moved;
  }

  /** Number of deliveries not yet settled, over all partitions. */
  get pendingCount(): number {
    let count = 0;
    for (const pending of this.#pending.values()) count += pending.size;
    return count;
  }

  /** Forgets partitions this member no longer owns (after a rebalance). */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) {
      this.#pending.delete(partition);
      this.#next.delete(partition);
      this.#committed.delete(partition);
    }
  }
}
