import type { RateGate } from '../core/concurrency.ts';
import type { TaskRecord } from '../core/task-record.ts';
import type { MemoryLanesHost } from './memory-lanes.ts';
import type { MemoryParking } from './memory-parking.ts';

/**
 * The memory store's rate limits, by the rules of the Redis scripts (lua/lib/task.lua): a
 * sliding log of each group's start times, at most `limit` in any window; the tasks that
 * came while it was full wait in order, and only the first is offered, at the time the
 * window has room for it.
 */
export class MemoryRates {
  readonly #host: MemoryLanesHost;
  readonly #parking: MemoryParking;
  /** Group → start times (ms) of the last window, oldest first. */
  readonly #logs = new Map<string, number[]>();
  /** Group → its parked tasks, in the order they parked. */
  readonly #waiting = new Map<string, Set<string>>();

  constructor(host: MemoryLanesHost, parking: MemoryParking) {
    this.#host = host;
    this.#parking = parking;
  }

  /** Whether the claim may start now; if not it is parked behind the others, the first offered. */
  allows(record: TaskRecord, gate: RateGate, now: number): boolean {
    const log = this.#window(gate, now);
    const first = this.#first(gate.group);
    if ((first === undefined || first === record.id) && log.length < gate.limit) return true;
    if (record.parkedOn !== gate.group) {
      this.#parking.park(record, gate.group);
      const waiting = this.#waiting.get(gate.group) ?? new Set<string>();
      this.#waiting.set(gate.group, waiting.add(record.id));
    }
    this.#offerFirst(gate, now);
    return false;
  }

  /** The task passed its rate check: out of the group's queue (the next one offered). */
  dequeue(record: TaskRecord, gate: RateGate, now: number): void {
    if (!this.#parking.unpark(record, gate.group)) return;
    this.#waiting.get(gate.group)?.delete(record.id);
    this.#offerFirst(gate, now);
  }

  /** A start: into the log, and the next parked one offered for when there is room. */
  started(gate: RateGate, now: number): void {
    this.#window(gate, now).push(now);
    this.#offerFirst(gate, now);
  }

  /** A parked task ended (cancelled): out of the queue; the next first is offered at once. */
  leave(record: TaskRecord): void {
    const group = record.parkedOn;
    if (!group?.startsWith('rate:')) return;
    const wasFirst = this.#first(group) === record.id;
    this.#parking.unpark(record, group);
    this.#waiting.get(group)?.delete(record.id);
    const next = this.#first(group);
    if (wasFirst && next !== undefined) this.#host.offer(next, 0, { wake: true });
  }

  /** The group's log with the starts older than the window dropped. */
  #window(gate: RateGate, now: number): number[] {
    const log = (this.#logs.get(gate.group) ?? []).filter((at) => at > now - gate.intervalMs);
    this.#logs.set(gate.group, log);
    return log;
  }

  /** The first parked task still parked on the group (others are dropped on the way). */
  #first(group: string): string | undefined {
    const waiting = this.#waiting.get(group);
    for (const id of waiting ?? []) {
      if (this.#host.record(id)?.parkedOn === group) return id;
      waiting!.delete(id);
    }
    if (waiting?.size === 0) this.#waiting.delete(group);
    return undefined;
  }

  #offerFirst(gate: RateGate, now: number): void {
    const first = this.#first(gate.group);
    if (first === undefined) return;
    const log = this.#window(gate, now);
    const at = log.length < gate.limit ? now : log[log.length - gate.limit]! + gate.intervalMs;
    this.#host.offer(first, at, { wake: at <= now });
  }
}
