import { EventEmitter } from 'node:events';
import type { ClaimGates } from '../core/concurrency.ts';
import { DEFAULTS } from '../core/defaults.ts';
import type { TaskEnvelope } from '../core/envelope.ts';
import type { JsonValue } from '../core/json.ts';
import { optional, positive } from '../core/options.ts';
import type { PauseControl } from '../core/pause.ts';
import {
  decide,
  holdsFinish,
  isExpired,
  type TaskEvent,
  type Transition,
} from '../core/state-machine.ts';
import {
  type ClaimOutcome,
  type ClaimRequest,
  type CreateOutcome,
  type FinishRequest,
  type FinishStep,
  type MonitorStore,
  type ParkedCounts,
  parkedCounts,
  type Stores,
  type TaskStore,
} from '../core/store.ts';
import { isTerminal, recordFromEnvelope, type TaskRecord } from '../core/task-record.ts';
import type { OptionFill } from '../core/unset-options.ts';
import { dueIds, ExpiringMap } from './expiring-map.ts';
import { cachedRecord, createOfPresent } from './memory-create.ts';
import { MemoryGates } from './memory-gates.ts';
import { MemoryWorkers } from './memory-workers.ts';
import { waitForRecord } from './wait-for-record.ts';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How long a terminal record is kept. Default `DEFAULTS.retentionMs`. */
  retentionMs?: number;
}

/**
 * The in-process store: the embedded default for the demo and for tests. One object
 * serves the task and monitor contracts, and its `registry` the third, over one
 * in-process state (see {@link memoryStores}).
 * It applies the state machine directly; every method runs in one turn of the event loop,
 * so each step is atomic.
 */
export class MemoryStore implements TaskStore, MonitorStore {
  #records = new ExpiringMap<TaskRecord>();
  #dedup = new ExpiringMap<string>();
  #cache = new ExpiringMap<JsonValue>();
  /** The worker registry of this in-process state (its heartbeats decide `requeue`). */
  readonly registry = new MemoryWorkers();
  #held = new Map<string, Set<string>>();
  #scheduled = new Map<string, number>();
  #resubmitted = new ExpiringMap<number>(); // last resubmit times, for a minute
  /** Requeued tasks for live workers to take: id → when it may be taken (ms). */
  #recovering = new Map<string, number>();
  #leader = new ExpiringMap<string>();
  #events = new EventEmitter();
  /** Ordering lanes and concurrency limits: a parked task's turn is offered as a recovered one. */
  #gates = new MemoryGates({
    record: (id) => this.#records.get(id),
    offer: (id, at, how) => this.#offer(id, at, how),
  });
  /** Paused task names (`TaskClient.pause`). */
  readonly pauses: PauseControl = this.#gates.pauses;
  #retentionMs: number;
  #writes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    const { retentionMs } = options;
    this.#retentionMs = optional('retentionMs', retentionMs, positive, DEFAULTS.retentionMs);
    this.#events.setMaxListeners(0);
  }

  #create(record: TaskRecord, options: { dedup: boolean; useCache: boolean }): CreateOutcome {
    const present = this.#records.get(record.id);
    if (present !== undefined) return createOfPresent(present, record);
    const key = record.dedupKey;
    const cached = options.useCache && key !== null ? this.#cache.get(key) : undefined;
    if (cached !== undefined) {
      const answered = cachedRecord(record, cached);
      this.#put(answered);
      this.#events.emit('finished', answered.id);
      return { kind: 'cached', record: structuredClone(answered) };
    }
    if (options.dedup && key !== null) {
      const existingId = this.#dedup.get(key);
      const existing = existingId === undefined ? undefined : this.#records.get(existingId);
      // Its own id: the same create sent again, created as the first one was.
      const other = existingId !== undefined && existingId !== record.id;
      if (other && existing !== undefined && !isTerminal(existing.status)) {
        return { kind: 'duplicate', id: existingId };
      }
      this.#dedup.set(key, record.id, pendingTtl(record));
    }
    const stored = structuredClone({ ...record, useCache: options.useCache });
    this.#put(stored);
    if (stored.runAt !== null) this.#scheduled.set(stored.id, stored.runAt);
    this.#gates.joined(stored);
    return { kind: 'created' };
  }

  async createMany(
    records: readonly TaskRecord[],
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome[]> {
    const outcomes: CreateOutcome[] = [];
    for (const record of records) outcomes.push(this.#create(record, options));
    return outcomes;
  }

  async discard(id: string): Promise<void> {
    const record = this.#records.get(id);
    if (record !== undefined) this.#gates.ended(record);
    this.#records.delete(id);
    this.#scheduled.delete(id);
    if (record?.dedupKey != null) this.#releaseDedup(record.dedupKey, id);
  }

  async claim(
    envelope: TaskEnvelope,
    workerId: string,
    now: number,
    fill?: OptionFill,
    loneLosses?: number,
    gates?: ClaimGates,
  ): Promise<ClaimOutcome> {
    const existing = this.#records.get(envelope.id);
    if (existing === undefined && isExpired(envelope, now, this.#retentionMs))
      return { ok: false, reason: 'expired' };
    let record = existing ?? recordFromEnvelope(envelope);
    const holder = record.worker;
    const event: TaskEvent = {
      type: 'claim',
      workerId,
      attempt: envelope.attempt,
      now,
      ...(fill === undefined ? {} : { fill }),
      ...(loneLosses === undefined ? {} : { loneLosses }),
    };
    let transition = decide(record, event);
    if (!transition.ok) return transition;
    if (this.#gates.gated(record, gates)) {
      // Its name not paused, its turn in its lane, its window, a slot of its group (lua/claim.lua); else parked,
      // and offered again when its turn comes (not at every lease in between).
      this.#recovering.delete(record.id);
      if (existing === undefined) this.#put(record);
      if (this.#gates.admit(record, now, gates) === 'parked')
        return { ok: false, reason: 'parked' };
      record = this.#records.get(record.id)!;
      transition = decide(record, event);
      if (!transition.ok) return transition;
    }
    if (holder !== null) this.#held.get(holder)?.delete(envelope.id);
    this.#heldSet(workerId).add(envelope.id);
    this.#apply(transition.record);
    const key = transition.record.dedupKey;
    const cachedResult =
      transition.record.useCache && key !== null ? this.#cache.get(key) : undefined;
    const claimed = structuredClone(transition.record);
    return cachedResult === undefined
      ? { ok: true, record: claimed }
      : { ok: true, record: claimed, cachedResult: structuredClone(cachedResult) };
  }

  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    const outcomes: ClaimOutcome[] = [];
    for (const r of requests) {
      outcomes.push(await this.claim(r.envelope, r.workerId, r.now, r.fill, r.loneLosses, r.gates));
    }
    return outcomes;
  }

  async finishMany(requests: readonly FinishRequest[]): Promise<boolean[]> {
    const outcomes: boolean[] = [];
    for (const { id, step } of requests) outcomes.push(await this.finish(id, step));
    return outcomes;
  }

  async finish(id: string, step: FinishStep): Promise<boolean> {
    const transition = this.#step(id, { type: 'finish', ...step });
    if (!transition.ok) {
      const status = step.outcome.status;
      return holdsFinish(this.#records.get(id) ?? null, { ...step, status });
    }
    this.#held.get(step.workerId)?.delete(id);
    this.#gates.stopped(this.#records.get(id)!);
    const { outcome } = step;
    // A requested cancel ended the task instead: the result is discarded, never cached.
    if (transition.record.status === 'cancelled') return outcome.status === 'cancelled';
    const key = transition.record.dedupKey;
    if (key !== null && outcome.status === 'success' && !outcome.cached && step.cacheTtlMs > 0) {
      this.#cache.set(key, structuredClone(outcome.result), step.cacheTtlMs);
    }
    return true;
  }

  async runsToStop(workerId: string, ids: readonly string[]): Promise<string[]> {
    return ids.filter((id) => {
      const record = this.#records.get(id);
      const held = record?.status === 'processing' && record.worker === workerId;
      return !held || record.cancelRequested;
    });
  }

  async get(id: string): Promise<TaskRecord | null> {
    const record = this.#records.get(id);
    return record === undefined ? null : structuredClone(record);
  }

  waitFor(id: string, timeoutMs: number): Promise<TaskRecord> {
    return waitForRecord(this.#events, (key) => this.#records.get(key), id, timeoutMs);
  }

  async cancel(id: string, now: number): Promise<Transition> {
    const transition = this.#step(id, { type: 'cancel', now });
    if (transition.ok && transition.record.status === 'processing') this.#events.emit('cancel', id);
    return transition;
  }

  async resubmit(id: string, now: number): Promise<Transition> {
    const record = this.#records.get(id); // the same resubmit again: answered as the first
    if (record?.status === 'queued' && this.#resubmitted.get(id) === now)
      return { ok: true, record: structuredClone(record) };
    const transition = this.#step(id, { type: 'resubmit', now });
    if (!transition.ok) return transition;
    this.#resubmitted.set(id, now, 60_000);
    const stored = this.#records.get(id)!;
    this.#gates.joined(stored); // at the end of its lane again
    return { ok: true, record: structuredClone(stored) };
  }

  onCancel(listener: (id: string) => void): Promise<() => Promise<void>> {
    return this.#listen('cancel', listener);
  }

  async prioritize(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (this.#records.get(id)?.status === 'queued') this.#offer(id, 0, { wake: true });
    }
  }

  /** Offers a task in the recovering set from `at` (see `MemoryLanesHost.offer`). */
  #offer(id: string, at: number, how: { keep?: boolean; wake?: boolean }): void {
    if (!how.keep || !this.#recovering.has(id)) this.#recovering.set(id, at);
    if (how.wake) this.#events.emit('turn', id);
  }

  onTurn(listener: (id: string) => void): Promise<() => Promise<void>> {
    return this.#listen('turn', listener);
  }

  async parked(limit: number): Promise<ParkedCounts> {
    return parkedCounts(this.#gates.parked(), limit);
  }

  async #listen(event: string, listener: (id: string) => void): Promise<() => Promise<void>> {
    this.#events.on(event, listener);
    return async () => {
      this.#events.off(event, listener);
    };
  }

  async lead(candidateId: string, ttlMs: number): Promise<boolean> {
    const holder = this.#leader.get('leader');
    if (holder !== undefined && holder !== candidateId) return false;
    this.#leader.set('leader', candidateId, ttlMs);
    return true;
  }

  async resign(candidateId: string): Promise<void> {
    if (this.#leader.get('leader') === candidateId) this.#leader.delete('leader');
  }

  async heldBy(workerId: string): Promise<string[]> {
    return [...(this.#held.get(workerId) ?? [])];
  }

  async requeue(id: string, workerId: string, now: number, maxLosses: number): Promise<Transition> {
    if (this.registry.alive(workerId)) return { ok: false, reason: 'alive' };
    this.#held.get(workerId)?.delete(id);
    const transition = this.#step(id, { type: 'requeue', workerId, now, maxLosses });
    if (!transition.ok) return transition;
    if (transition.record.status === 'queued') this.#recovering.set(id, now);
    const stored = this.#records.get(id)!;
    this.#gates.stopped(stored); // its slot is given back
    return { ok: true, record: structuredClone(stored) };
  }

  async takeRecovered(now: number, limit: number, leaseMs: number): Promise<TaskRecord[]> {
    const taken: TaskRecord[] = [];
    for (const id of dueIds(this.#recovering, now)) {
      if (taken.length >= limit) break;
      const record = this.#records.get(id);
      if (record?.status !== 'queued') {
        this.#recovering.delete(id);
        continue;
      }
      this.#recovering.set(id, now + leaseMs);
      taken.push(structuredClone(record));
    }
    return taken;
  }

  async waitingLow(limit: number): Promise<TaskRecord[]> {
    return this.#gates.waitingLow(limit).map((record) => structuredClone(record));
  }

  async dueTasks(now: number, limit: number): Promise<TaskRecord[]> {
    const due: TaskRecord[] = [];
    for (const id of dueIds(this.#scheduled, now)) {
      const record = this.#records.get(id);
      if (record === undefined || (record.status !== 'queued' && record.status !== 'retrying')) {
        this.#scheduled.delete(id);
        continue;
      }
      due.push(structuredClone(record));
      if (due.length >= limit) break;
    }
    return due;
  }

  async promote(id: string, attempt: number, now: number): Promise<Transition> {
    const transition = this.#step(id, { type: 'promote', attempt, now });
    const record = this.#records.get(id);
    const waiting = record?.status === 'retrying' || record?.status === 'queued';
    if (!waiting || record?.runAt === null) this.#scheduled.delete(id);
    return transition;
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
  }

  /** Applies `event` to the stored record and keeps the side tables in step. */
  #step(id: string, event: TaskEvent): Transition {
    const transition = decide(this.#records.get(id) ?? null, event);
    if (!transition.ok) return transition;
    this.#apply(transition.record);
    return { ok: true, record: structuredClone(this.#records.get(id)!) };
  }

  #apply(record: TaskRecord): void {
    this.#put(structuredClone(record));
    if (record.runAt !== null) this.#scheduled.set(record.id, record.runAt);
    else this.#scheduled.delete(record.id);
    if (isTerminal(record.status)) {
      if (record.dedupKey !== null) this.#releaseDedup(record.dedupKey, record.id);
      this.#gates.ended(this.#records.get(record.id)!);
      this.#events.emit('finished', record.id);
    }
  }

  #put(record: TaskRecord): void {
    if (++this.#writes % 1000 === 0) this.#sweep();
    this.#records.set(
      record.id,
      record,
      isTerminal(record.status) ? this.#retentionMs : pendingTtl(record),
    );
  }

  #heldSet(workerId: string): Set<string> {
    const held = this.#held.get(workerId) ?? new Set<string>();
    this.#held.set(workerId, held);
    return held;
  }

  /** Drops expired entries, so memory stays bounded however many tasks run. */
  #sweep(): void {
    for (const map of [this.#records, this.#dedup, this.#cache]) map.sweep();
    this.registry.sweep();
    this.#gates.sweep();
    for (const [workerId, held] of this.#held) if (held.size === 0) this.#held.delete(workerId);
  }

  #releaseDedup(key: string, id: string): void {
    if (this.#dedup.get(key) === id) this.#dedup.delete(key);
  }
}

/** How long a record still in flight is kept: the pending TTL, from its `runAt` when later. */
function pendingTtl(record: TaskRecord): number {
  return DEFAULTS.pendingTtlMs + Math.max(0, (record.runAt ?? 0) - record.submittedAt);
}

/** A {@link MemoryStore} as the three contracts a worker, client or monitor takes. */
export function memoryStores(store: MemoryStore = new MemoryStore()): Stores & {
  store: MemoryStore;
} {
  return { store, registry: store.registry, monitorStore: store, close: () => store.close() };
}
