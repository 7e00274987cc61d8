/** One partition's messages not handed out yet, oldest first. */
interface PartitionQueue<T> {
  items: T[];
  sizes: number[];
  /** Index of the oldest item still queued (taken ones are cut off in bulk). */
  head: number;
}

/**
 * Messages fetched ahead of the worker, kept per partition in offset order and bounded
 * in bytes. {@link take} hands them out round robin across partitions, one from each in
 * turn, starting where the previous take stopped: a partition with a deep backlog cannot
 * starve the others of slots. {@link hasRoom} tells the reader whether to read (and so
 * fetch) more: it is false from the moment the buffered bytes reach the limit, so the
 * buffer holds at most the limit plus the one message that crossed it.
 */
export class FetchBuffer<T> {
  readonly limitBytes: number;
  readonly #queues = new Map<number, PartitionQueue<T>>();
  /** Partitions with queued items, in the order they take turns. */
  #turns: number[] = [];
  /** Index in {@link #turns} of the partition whose turn is next. */
  #next = 0;
  #bytes = 0;
  #size = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  /** Bytes of the messages buffered now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages buffered now. */
  get size(): number {
    return this.#size;
  }

  /** True while the buffered bytes are below the limit: reading ahead may go on. */
  get hasRoom(): boolean {
    return this.#bytes < this.limitBytes;
  }

  /** Queues `item` (of `bytes` bytes) after the earlier ones of `partition`. */
  push(partition: number, item: T, bytes: number): void {
    let queue = this.#queues.get(partition);
    if (queue === undefined) {
      queue = { items: [], sizes: [], head: 0 };
      this.#queues.set(partition, queue);
    }
    if (queue.head === queue.items.length) {
      // Takes its turn after every partition already waiting.
      this.#turns.splice(this.#next, 0, partition);
      this.#next++;
      if (this.#next >= this.#turns.length) this.#next = 0;
    }
    queue.items.push(item);
    queue.sizes.push(bytes);
    this.#bytes += bytes;
    this.#size++;
  }

  /** Up to `max` items, one per partition in turn, each partition's in the order pushed. */
  take(max: number): T[] {
    const taken: T[] = [];
    while (taken.length < max && this.#turns.length > 0) {
      if (this.#next >= this.#turns.length) this.#next = 0;
      const partition = this.#turns[this.#next]!;
      const queue = this.#queues.get(partition)!;
      taken.push(queue.items[queue.head]!);
      this.#bytes -= queue.sizes[queue.head]!;
      this.#size--;
      queue.head++;
      if (queue.head === queue.items.length) {
        this.#queues.delete(partition);
        this.#turns.splice(this.#next, 1);
      } else {
        if (queue.head >= 1024 && queue.head * 2 >= queue.items.length) compact(queue);
        this.#next++;
      }
    }
    return taken;
  }

  /** Drops everything queued for `partitions` (lost to another member). */
  drop(partitions: Iterable<number>): void {
    for (const partition of partitions) {
      const queue = this.#queues.get(partition);
      if (queue === undefined) continue;
      for (let i = queue.head; i < queue.items.length; i++) this.#bytes -= queue.sizes[i]!;
      this.#size -= queue.items.length - queue.head;
      this.#queues.delete(partition);
      const turn = this.#turns.indexOf(partition);
      this.#turns.splice(turn, 1);
      if (turn < this.#next) this.#next--;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.drop([...this.#queues.keys()]);
  }
}

/** Cuts the taken items off the front of `queue`. */
function compact<T>(queue: PartitionQueue<T>): void {
  queue.items = queue.items.slice(queue.head);
  queue.sizes = queue.sizes.slice(queue.head);
  queue.head = 0;
}
