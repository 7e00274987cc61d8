import type { ConcurrencyGate } from '../core/concurrency.ts';
import { isTerminal, type TaskRecord } from '../core/task-record.ts';
import type { MemoryLanesHost } from './memory-lanes.ts';
import type { MemoryParking } from './memory-parking.ts';

/**
 * The memory store's concurrency limits, by the rules of the Redis scripts
 * (lua/lib/task.lua): a group's slots are held by its running tasks (and by a parked one
 * handed a freed slot, until its claim); a task claimed while they are all held is parked,
 * and the longest-parked one is handed the next slot freed. Records are changed in place
 * (`slot`, `parkedOn`).
 */
export class MemoryLimits {
  readonly #host: MemoryLanesHost;
  readonly #parking: MemoryParking;
  /** Group → ids of the tasks holding a slot. */
  readonly #slots = new Map<string, Set<string>>();
  /** Group → ids of its parked tasks, in the order they parked. */
  readonly #waiting = new Map<string, Set<string>>();

  constructor(host: MemoryLanesHost, parking: MemoryParking) {
    this.#host = host;
    this.#parking = parking;
  }

  /** At a claim under `gate`: `run` with a slot held (taken now, or handed), else `parked`. */
  admit(record: TaskRecord, gate: ConcurrencyGate): 'run' | 'parked' {
    const { group, limit } = gate;
    const slots = this.#slots.get(group) ?? new Set<string>();
    this.#slots.set(group, slots);
    const holds = () => record.slot === group && slots.has(record.id);
    if (holds()) return 'run';
    if (slots.size >= limit) {
      // Members whose record ended, expired or holds no slot here give theirs back.
      for (const id of slots) {
        const member = this.#host.record(id);
        if (member === undefined || member.slot !== group || isTerminal(member.status))
          slots.delete(id);
      }
    }
    // Free slots go to the tasks that waited longest first (this one too, if it waits).
    while (slots.size < limit && this.#handSlot(group, slots)) {}
    if (holds()) return 'run';
    if (slots.size >= limit) {
      if (record.parkedOn !== group) {
        this.#parking.park(record, group);
        const waiting = this.#waiting.get(group) ?? new Set<string>();
        this.#waiting.set(group, waiting.add(record.id));
      }
      return 'parked';
    }
    slots.add(record.id);
    record.slot = group;
    return 'run';
  }

  /** The task stopped running (finished, or lost with its worker): its slot is handed on. */
  release(record: TaskRecord): void {
    const group = record.slot;
    if (group === undefined) return;
    delete record.slot;
    const slots = this.#slots.get(group);
    slots?.delete(record.id);
    if (slots !== undefined) this.#handSlot(group, slots);
    if (slots?.size === 0) this.#slots.delete(group);
  }

  /** Hands a free slot to the group's longest-parked task (reserved, offered); false if none. */
  #handSlot(group: string, slots: Set<string>): boolean {
    const waiting = this.#waiting.get(group);
    let handed = false;
    for (const id of waiting ?? []) {
      waiting!.delete(id);
      const next = this.#host.record(id);
      if (next === undefined || !this.#parking.unpark(next, group)) continue;
      slots.add(id);
      next.slot = group;
      this.#host.offer(id, 0, { wake: true });
      handed = true;
      break;
    }
    if (waiting?.size === 0) this.#waiting.delete(group);
    return handed;
  }

  /** A waiting task ended (cancelled): out of its group's queue; a slot handed to it is freed. */
  leave(record: TaskRecord): void {
    const group = record.parkedOn;
    if (group?.startsWith('limit:') && this.#parking.unpark(record, group)) {
      this.#waiting.get(group)?.delete(record.id);
    }
    this.release(record);
  }
}
