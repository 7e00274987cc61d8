import { type PauseControl, pauseGroup } from '../core/pause.ts';
import type { TaskRecord } from '../core/task-record.ts';
import type { MemoryLanesHost } from './memory-lanes.ts';
import type { MemoryParking } from './memory-parking.ts';

/**
 * The memory store's paused task names, by the rules of lua/claim.lua and lua/resume.lua:
 * a claim of a paused name parks on `pause:<name>` (giving back a slot it was handed);
 * resume offers every task parked there again.
 */
export class MemoryPauses implements PauseControl {
  readonly #host: MemoryLanesHost;
  readonly #parking: MemoryParking;
  readonly #paused = new Set<string>();
  /** Name → ids of its parked tasks, in the order they parked. */
  readonly #waiting = new Map<string, Set<string>>();

  constructor(host: MemoryLanesHost, parking: MemoryParking) {
    this.#host = host;
    this.#parking = parking;
  }

  async pause(name: string): Promise<boolean> {
    if (this.#paused.has(name)) return false;
    this.#paused.add(name);
    return true;
  }

  async resume(name: string): Promise<number> {
    this.#paused.delete(name);
    const waiting = this.#waiting.get(name);
    this.#waiting.delete(name);
    let offered = 0;
    for (const id of waiting ?? []) {
      const record = this.#host.record(id);
      if (record === undefined || !this.#parking.unpark(record, pauseGroup(name))) continue;
      this.#host.offer(id, 0, { wake: true });
      offered++;
    }
    return offered;
  }

  async paused(): Promise<string[]> {
    return [...this.#paused].sort();
  }

  /** Whether a claim of this task must park (its name is paused). */
  holds(record: TaskRecord): boolean {
    return this.#paused.has(record.name);
  }

  /** Parks `record` on its name's pause. */
  park(record: TaskRecord): void {
    this.#parking.park(record, pauseGroup(record.name));
    const waiting = this.#waiting.get(record.name) ?? new Set<string>();
    waiting.add(record.id);
    this.#waiting.set(record.name, waiting);
  }

  /** Ended while parked here (cancelled): out of the count and the queue. */
  leave(record: TaskRecord): void {
    if (this.#parking.unpark(record, pauseGroup(record.name)))
      this.#waiting.get(record.name)?.delete(record.id);
  }
}
