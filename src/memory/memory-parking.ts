import type { TaskRecord } from '../core/task-record.ts';

/**
 * Who is parked on what, for the memory store's lanes and limits (the `parkedOn` field
 * and the `P parked` counts of the Redis scripts): records are changed in place.
 */
export class MemoryParking {
  /** Group (`lane:<key>`, `limit:<name>[:<key>]`) → how many of its tasks are parked. */
  readonly #counts = new Map<string, number>();

  /** Parks `record` on `group` (out of the count of a group it was parked on before). */
  park(record: TaskRecord, group: string): void {
    if (record.parkedOn === group) return;
    if (record.parkedOn !== undefined) this.unpark(record, record.parkedOn);
    record.parkedOn = group;
    this.#counts.set(group, (this.#counts.get(group) ?? 0) + 1);
  }

  /** Unparks `record` if it is parked on `group`; true when it was. */
  unpark(record: TaskRecord, group: string): boolean {
    if (record.parkedOn !== group) return false;
    delete record.parkedOn;
    const count = (this.#counts.get(group) ?? 0) - 1;
    if (count > 0) this.#counts.set(group, count);
    else this.#counts.delete(group);
    return true;
  }

  /** Parked tasks per group. */
  counts(): Map<string, number> {
    return new Map(this.#counts);
  }
}
