import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../core/defaults.ts';
import type { TaskEnvelope } from '../core/envelope.ts';
import { YadtqError } from '../core/errors.ts';
import type { JsonValue } from '../core/json.ts';
import { decide } from '../core/state-machine.ts';
import type { ClaimOutcome, CreateOutcome, Store, WorkerInfo } from '../core/store.ts';
import {
  isTerminal,
  recordFromEnvelope,
  type TaskOutcome,
  type TaskRecord,
} from '../core/task-record.ts';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How long a terminal record is kept. Default `DEFAULTS.retentionMs`. */
  retentionMs?: number;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * The in-process store: the embedded default for the demo and for tests. It applies the
 * state machine directly; every method runs in one turn of the event loop, so each step
 * is atomic.
 */
export class MemoryStore implements Store {
  #records = new Map<string, Entry<TaskRecord>>();
  #dedup = new Map<string, Entry<string>>();
  #cache = new Map<string, Entry<JsonValue>>();
  #heartbeats = new Map<string, Entry<WorkerInfo>>();
  #workers = new Map<string, WorkerInfo>();
  #events = new EventEmitter();
  #retentionMs: number;
  #writes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#retentionMs = options.retentionMs ?? DEFAULTS.retentionMs;
    if (!(this.#retentionMs > 0)) throw new YadtqError('INVALID_OPTION', 'retentionMs must be > 0');
    this.#events.setMaxListeners(0);
  }

  async create(
    record: TaskRecord,
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome> {
    const key = record.dedupKey;
    const cached = options.useCache && key !== null ? live(this.#cache, key) : undefined;
    if (cached !== undefined) {
      const answered: TaskRecord = {
        ...record,
        status: 'success',
        result: cached,
        cached: true,
        startedAt: record.submittedAt,
        finishedAt: record.submittedAt,
        durationMs: 0,
      };
      this.#put(answered);
      this.#events.emit('finished', answered.id);
      return { kind: 'cached', record: structuredClone(answered) };
    }
    if (options.dedup && key !== null) {
      const existingId = live(this.#dedup, key);
      const existing = existingId === undefined ? undefined : live(this.#records, existingId);
      if (existingId !== undefined && existing !== undefined && !isTerminal(existing.status)) {
        return { kind: 'duplicate', id: existingId };
      }
      this.#dedup.set(key, { value: record.id, expiresAt: Date.now() + DEFAULTS.pendingTtlMs });
    }
    this.#put(structuredClone({ ...record, useCache: options.useCache }));
    return { kind: 'created' };
  }

  async discard(id: string): Promise<void> {
    const record = live(this.#records, id);
    this.#records.delete(id);
    if (record?.dedupKey != null) this.#releaseDedup(record.dedupKey, id);
  }

  async claim(envelope: TaskEnvelope, workerId: string, now: number): Promise<ClaimOutcome> {
    const record = live(this.#records, envelope.id) ?? recordFromEnvelope(envelope);
    const holderAlive =
      record.worker !== null && live(this.#heartbeats, record.worker) !== undefined;
    const transition = decide(record, {
      type: 'claim',
      workerId,
      attempt: envelope.attempt,
      now,
      holderAlive,
    });
    if (!transition.ok) return transition;
    this.#put(transition.record);
    const key = transition.record.dedupKey;
    const cachedResult =
      transition.record.useCache && key !== null ? live(this.#cache, key) : undefined;
    const claimed = structuredClone(transition.record);
    return cachedResult === undefined
      ? { ok: true, record: claimed }
      : { ok: true, record: claimed, cachedResult };
  }

  async finish(
    id: string,
    step: {
      workerId: string;
      attempt: number;
      now: number;
      outcome: TaskOutcome;
      cacheTtlMs: number;
    },
  ): Promise<boolean> {
    const transition = decide(live(this.#records, id) ?? null, { type: 'finish', ...step });
    if (!transition.ok) return false;
    const record = transition.record;
    this.#put(structuredClone(record));
    if (record.dedupKey !== null) {
      this.#releaseDedup(record.dedupKey, id);
      if (step.outcome.status === 'success' && !step.outcome.cached && step.cacheTtlMs > 0) {
        this.#cache.set(record.dedupKey, {
          value: structuredClone(step.outcome.result),
          expiresAt: step.now + step.cacheTtlMs,
        });
      }
    }
    this.#events.emit('finished', id);
    return true;
  }

  async get(id: string): Promise<TaskRecord | null> {
    const record = live(this.#records, id);
    return record === undefined ? null : structuredClone(record);
  }

  waitFor(id: string, timeoutMs: number): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const record = live(this.#records, id);
        if (record === undefined) {
          done(new YadtqError('TASK_NOT_FOUND', `task ${id} is not known (or has expired)`));
          return true;
        }
        if (!isTerminal(record.status)) return false;
        done(null, structuredClone(record));
        return true;
      };
      const onFinished = (finishedId: string) => {
        if (finishedId === id) check();
      };
      const timer = setTimeout(
        () =>
          done(new YadtqError('WAIT_TIMEOUT', `task ${id} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (error: YadtqError | null, record?: TaskRecord) => {
        clearTimeout(timer);
        this.#events.off('finished', onFinished);
        if (error) reject(error);
        else resolve(record as TaskRecord);
      };
      this.#events.on('finished', onFinished);
      check();
    });
  }

  async registerWorker(info: WorkerInfo, ttlMs: number): Promise<void> {
    if (live(this.#heartbeats, info.id) !== undefined) {
      throw new YadtqError(
        'WORKER_ID_IN_USE',
        `worker id "${info.id}" is in use: its heartbeat is alive`,
      );
    }
    await this.heartbeat(info, ttlMs);
  }

  async heartbeat(info: WorkerInfo, ttlMs: number): Promise<void> {
    const copy = structuredClone(info);
    this.#heartbeats.set(info.id, { value: copy, expiresAt: Date.now() + ttlMs });
    this.#workers.set(info.id, copy);
  }

  async deregisterWorker(id: string): Promise<void> {
    this.#heartbeats.delete(id);
  }

  async workers(): Promise<WorkerInfo[]> {
    return [...this.#workers.values()]
      .map((info) => ({
        ...structuredClone(info),
        alive: live(this.#heartbeats, info.id) !== undefined,
      }))
      .sort((a, b) => b.lastHeartbeat - a.lastHeartbeat);
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
  }

  #put(record: TaskRecord): void {
    if (++this.#writes % 1000 === 0) this.#sweep();
    const ttl = isTerminal(record.status) ? this.#retentionMs : DEFAULTS.pendingTtlMs;
    this.#records.set(record.id, { value: record, expiresAt: Date.now() + ttl });
  }

  /** Drops expired entries, so memory stays bounded however many tasks run. */
  #sweep(): void {
    for (const map of [this.#records, this.#dedup, this.#cache, this.#heartbeats] as Map<
      string,
      Entry<unknown>
    >[]) {
      for (const key of [...map.keys()]) live(map, key);
    }
  }

  #releaseDedup(key: string, id: string): void {
    if (live(this.#dedup, key) === id) this.#dedup.delete(key);
  }
}

function live<T>(map: Map<string, Entry<T>>, key: string): T | undefined {
  const entry = map.get(key);
  if (entry === undefined) return undefined;
  if (entry.expiresAt <= Date.now()) {
    map.delete(key);
    return undefined;
  }
  return entry.value;
}
