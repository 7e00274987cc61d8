import type { ConcurrencyGate } from '../core/concurrency.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { MemoryLanes, type MemoryLanesHost } from './memory-lanes.ts';
import { MemoryLimits } from './memory-limits.ts';
import { MemoryParking } from './memory-parking.ts';

/**
 * What decides, beside the state machine, whether the memory store lets a claim run:
 * the task's ordering lane, then its concurrency limit. Each keeps its own state; the
 * store tells them what happened to a task.
 */
export class MemoryGates {
  readonly #parking = new MemoryParking();
  readonly #lanes: MemoryLanes;
  readonly #limits: MemoryLimits;

  constructor(host: MemoryLanesHost) {
    this.#lanes = new MemoryLanes(host, this.#parking);
    this.#limits = new MemoryLimits(host, this.#parking);
  }

  /** Whether the claim of `record` (the stored one) may run now; else it is parked. */
  admit(record: TaskRecord, now: number, gate: ConcurrencyGate | undefined): 'run' | 'parked' {
    if (record.orderingKey !== undefined && this.#lanes.turn(record, now) === 'parked')
      return 'parked';
    return gate === undefined ? 'run' : this.#limits.admit(record, gate);
  }

  /** Created or resubmitted: at the end of its lane. */
  joined(record: TaskRecord): void {
    this.#lanes.join(record);
  }

  /** Stopped running (finished, retrying, or back in the queue after a lost worker). */
  stopped(record: TaskRecord): void {
    this.#limits.release(record);
  }

  /** Ended (or discarded): out of its limit's queue and its lane, the next one's turn. */
  ended(record: TaskRecord): void {
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
