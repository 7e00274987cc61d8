import type { ClaimGates } from '../core/concurrency.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { MemoryLanes, type MemoryLanesHost } from './memory-lanes.ts';
import { MemoryLimits } from './memory-limits.ts';
import { MemoryParking } from './memory-parking.ts';
import { MemoryPauses } from './memory-pauses.ts';
import { MemoryRates } from './memory-rates.ts';

/**
 * What decides, beside the state machine, whether the memory store lets a claim run:
 * the task's ordering lane, then its concurrency limit. Each keeps its own state; the
 * store tells them what happened to a task.
 */
export class MemoryGates {
  readonly #parking = new MemoryParking();
  readonly #lanes: MemoryLanes;
  readonly #limits: MemoryLimits;
  readonly #rates: MemoryRates;
  /** The paused task names (the store's `pauses`). */
  readonly pauses: MemoryPauses;
  readonly #host: MemoryLanesHost;
  /** Low-priority tasks not produced yet, in create order (lua/low.lua's P low). */
  readonly #low = new Set<string>();

  constructor(host: MemoryLanesHost) {
    this.#host = host;
    this.#lanes = new MemoryLanes(host, this.#parking);
    this.#limits = new MemoryLimits(host, this.#parking);
    this.#rates = new MemoryRates(host, this.#parking);
    this.pauses = new MemoryPauses(host, this.#parking);
  }

  /** Whether a claim of `record` goes through {@link admit}: it has a lane, gates or a pause. */
  gated(record: TaskRecord, gates: ClaimGates | undefined): boolean {
    return record.orderingKey !== undefined || gates !== undefined || this.pauses.holds(record);
  }

  /**
   * Whether the claim of `record` (the stored one) may run now, in the order of
   * lua/claim.lua: its name not paused, its lane's turn, its rate limit's window, a slot
   * of its concurrency group; else it is parked.
   */
  admit(record: TaskRecord, now: number, gates: ClaimGates | undefined): 'run' | 'parked' {
    if (this.pauses.holds(record)) {
      // Handed a slot while it waited: it goes to the next one of the group.
      this.#limits.release(record);
      this.pauses.park(record);
      return 'parked';
    }
    if (record.orderingKey !== undefined && this.#lanes.turn(record, now) === 'parked')
      return 'parked';
    const { rate, concurrency } = gates ?? {};
    if (rate !== undefined) {
      if (!this.#rates.allows(record, rate, now)) {
        // It cannot start yet: a concurrency slot it was handed goes to the next one.
        if (concurrency !== undefined && record.slot === concurrency.group)
          this.#limits.release(record);
        return 'parked';
      }
      this.#rates.dequeue(record, rate, now);
    }
    if (concurrency !== undefined && this.#limits.admit(record, concurrency) === 'parked')
      return 'parked';
    if (rate !== undefined) this.#rates.started(rate, now);
    return 'run';
  }

  /** Created or resubmitted: at the end of its lane; a waiting low-priority one queues. */
  joined(record: TaskRecord): void {
    this.#lanes.join(record);
    if (record.priority === 'low' && record.runAt !== null) this.#low.add(record.id);
  }

  /** Low-priority tasks still waiting for the log, oldest first (the stored records). */
  waitingLow(limit: number): TaskRecord[] {
    const waiting: TaskRecord[] = [];
    for (const id of this.#low) {
      if (waiting.length >= limit) break;
      const record = this.#host.record(id);
      if (record?.status === 'queued' && record.runAt !== null) waiting.push(record);
      else this.#low.delete(id);
    }
    return waiting;
  }

  /** Stopped running (finished, retrying, or back in the queue after a lost worker). */
  stopped(record: TaskRecord): void {
    this.#limits.release(record);
  }

  /** Ended (or discarded): out of its limit's queue and its lane, the next one's turn. */
  ended(record: TaskRecord): void {
    this.pauses.leave(record);
    this.#rates.leave(record);
    this.#limits.leave(record);
    this.#lanes.leave(record);
  }

  /** Parked tasks per group. */
  parked(): Map<string, number> {
    return this.#parking.counts();
  }

  sweep(): void {
    this.#lanes.sweep();
  }
}
