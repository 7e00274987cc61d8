import { DEFAULTS } from '../core/defaults.ts';
import { isTerminal, type TaskRecord } from '../core/task-record.ts';
import type { MemoryParking } from './memory-parking.ts';

/** What {@link MemoryLanes} needs from the memory store. */
export interface MemoryLanesHost {
  /** The stored record (changed in place), or undefined when unknown or expired. */
  record(id: string): TaskRecord | undefined;
  /**
   * Offers a task to the workers from the recovering set, from time `at` (ms): with
   * `keep`, an entry already there stays as it is; with `wake`, the workers are told now.
   */
  offer(id: string, at: number, how: { keep?: boolean; wake?: boolean }): void;
}

/**
 * The memory store's ordering lanes, by the rules of the Redis scripts (lua/lib/task.lua):
 * a lane holds its tasks that have not ended in create order; the first one's turn it
 * is; a task claimed before its turn is parked, and offered to the workers when its turn
 * comes. Records are changed in place (`laneSeq`, `parkedOn`), as the scripts write them.
 */
export class MemoryLanes {
  readonly #host: MemoryLanesHost;
  readonly #parking: MemoryParking;
  /** Ordering key → the lane's task ids and their sequence, in create (insertion) order. */
  readonly #lanes = new Map<string, Map<string, number>>();
  #seq = 0;

  constructor(host: MemoryLanesHost, parking: MemoryParking) {
    this.#host = host;
    this.#parking = parking;
  }

  /** Puts the task at the end of its lane unless it is in it already; writes its laneSeq. */
  join(record: TaskRecord): void {
    const key = record.orderingKey;
    if (key === undefined) return;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = new Map();
      this.#lanes.set(key, lane);
    }
    if (!lane.has(record.id)) lane.set(record.id, ++this.#seq);
    record.laneSeq = lane.get(record.id)!;
  }

  /**
   * At a claim of a lane's task: `run` when its turn has come, else `parked` (parked now,
   * and a first task still `queued` offered from `now` + {@link DEFAULTS.laneStallMs}).
   */
  turn(record: TaskRecord, now: number): 'run' | 'parked' {
    const key = record.orderingKey!;
    if (!this.#lanes.get(key)?.has(record.id)) this.join(record);
    const head = this.#head(key);
    if (head !== record.id) {
      this.#parking.park(record, `lane:${key}`);
      const first = head === undefined ? undefined : this.#host.record(head);
      if (first?.status === 'queued' && first.runAt === null)
        this.#host.offer(first.id, now + DEFAULTS.laneStallMs, { keep: true });
      return 'parked';
    }
    this.#parking.unpark(record, `lane:${key}`);
    return 'run';
  }

  /** A lane's task ended (or was discarded): out of its lane, and the next one's turn. */
  leave(record: TaskRecord): void {
    const key = record.orderingKey;
    if (key === undefined) return;
    this.#parking.unpark(record, `lane:${key}`);
    if (this.#lanes.get(key)?.delete(record.id) !== true) return;
    const head = this.#head(key);
    if (head !== undefined) this.#offerTurn(head);
  }

  /** Drops members whose record expired, and empty lanes (memory stays bounded). */
  sweep(): void {
    for (const key of [...this.#lanes.keys()]) this.#head(key);
  }

  /** The task whose turn it is; members whose record expired or ended are dropped first. */
  #head(key: string): string | undefined {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return undefined;
    let dropped = false;
    for (const id of lane.keys()) {
      const record = this.#host.record(id);
      if (record !== undefined && !isTerminal(record.status)) {
        if (dropped) this.#offerTurn(id);
        return id;
      }
      lane.delete(id);
      dropped = true;
    }
    this.#lanes.delete(key);
    return undefined;
  }

  /** If the lane's first task is parked on its lane, its turn has come. */
  #offerTurn(id: string): void {
    const record = this.#host.record(id);
    if (record === undefined || !this.#parking.unpark(record, `lane:${record.orderingKey}`)) return;
    this.#host.offer(id, 0, { wake: true });
  }
}
