import type { ClaimGates } from '../core/concurrency.ts';
import { DEFAULTS } from '../core/defaults.ts';
import type { TaskEnvelope } from '../core/envelope.ts';
import { isExpired, type RefusalReason, type Transition } from '../core/state-machine.ts';
import {
  type ClaimOutcome,
  type ClaimRequest,
  type CreateOutcome,
  claimRequest,
  type FinishRequest,
  type FinishStep,
  type TaskStore,
} from '../core/store.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { recordFromEnvelope } from '../core/task-record.ts';
import type { OptionFill } from '../core/unset-options.ts';
import {
  decodeClaimReply,
  decodeRecord,
  decodeRecordReply,
  decodeTransition,
  parseCacheEntry,
  recordToArgs,
} from './record-codec.ts';
import { closedError, type RedisConnection } from './redis-connection.ts';
import { TaskEvents } from './task-events.ts';

/** Claims or finishes one script call takes at most: bounds how long one call holds Redis. */
const STEP_BATCH = 100;

/** Records one create script writes at most: bounds how long one call holds Redis. */
const CREATE_BATCH = 100;

/**
 * The production {@link TaskStore}: one hash per task, every change of a task one Lua
 * script, finished task ids announced on the `<prefix>events` channel and ids of running
 * tasks to cancel on `<prefix>cancel`. Built by `RedisStores` on its shared connection.
 */
export class RedisTaskStore implements TaskStore {
  readonly #db: RedisConnection;
  readonly #events: TaskEvents;

  constructor(db: RedisConnection) {
    this.#db = db;
    this.#events = new TaskEvents({
      channel: db.channel,
      cancelChannel: `${db.options.prefix}cancel`,
      turnChannel: `${db.options.prefix}turn`,
      connect: () => db.duplicate(),
      call: (connection, command) => db.runOn(connection, command),
      read: (id) => this.get(id),
    });
  }

  /** One script call per {@link CREATE_BATCH} records, issued together (pipelined). */
  async createMany(
    records: readonly TaskRecord[],
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome[]> {
    const batches: Promise<CreateOutcome[]>[] = [];
    for (let at = 0; at < records.length; at += CREATE_BATCH) {
      batches.push(this.#createBatch(records.slice(at, at + CREATE_BATCH), options));
    }
    return (await Promise.all(batches)).flat();
  }

  async #createBatch(
    records: readonly TaskRecord[],
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome[]> {
    const { prefix, pendingTtlMs, retentionMs } = this.#db.options;
    const keys: string[] = [];
    const args: Array<string | number> = [prefix, pendingTtlMs, retentionMs, this.#db.channel];
    for (const record of records) {
      const dedupKey = record.dedupKey ?? '';
      keys.push(
        this.#db.key('task', record.id),
        this.#db.key('dedup', dedupKey),
        this.#db.key('cache', dedupKey),
      );
      const fields = recordToArgs({ ...record, useCache: options.useCache });
      args.push(
        record.id,
        options.dedup && dedupKey !== '' ? '1' : '0',
        options.useCache && dedupKey !== '' ? '1' : '0',
        fields.length,
        ...fields,
      );
    }
    const replies = await this.#db.run(() =>
      this.#db.scripts.yadtqCreate(keys.length, ...keys, ...args),
    );
    return replies.map((reply): CreateOutcome => {
      if (reply[0] === 'duplicate') return { kind: 'duplicate', id: reply[1]! };
      if (reply[0] === 'exists') return { kind: 'exists', id: reply[1]! };
      if (reply[0] === 'cached') return { kind: 'cached', record: decodeRecordReply(reply, 1)! };
      return { kind: 'created' };
    });
  }

  async discard(id: string): Promise<void> {
    await this.#db.run(() =>
      this.#db.scripts.yadtqDiscard(this.#db.key('task', id), this.#db.options.prefix, id),
    );
  }

  async claim(
    envelope: TaskEnvelope,
    workerId: string,
    now: number,
    fill?: OptionFill,
    loneLosses?: number,
    gates?: ClaimGates,
  ): Promise<ClaimOutcome> {
    const [outcome] = await this.claimMany([
      claimRequest(envelope, workerId, now, fill, loneLosses, gates),
    ]);
    return outcome!;
  }

  /** One script call per {@link STEP_BATCH} claims (claim.lua per task, in order). */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    // The record nearly always exists (the client wrote it): send it only when it does not.
    const replies = await this.#claimCalls(requests.map((r) => [r, []]));
    const missing: Array<[number, ClaimRequest]> = [];
    replies.forEach((reply, i) => {
      const request = requests[i]!;
      if (reply[0] !== 'missing') return;
      if (!isExpired(request.envelope, request.now, this.#db.options.retentionMs))
        missing.push([i, request]);
    });
    if (missing.length > 0) {
      const again = await this.#claimCalls(
        missing.map(([, r]) => [r, recordToArgs(recordFromEnvelope(r.envelope))]),
      );
      missing.forEach(([i], k) => {
        replies[i] = again[k]!;
      });
    }
    return replies.map((reply, i): ClaimOutcome => {
      const { envelope, fill, workerId, now } = requests[i]!;
      // Still missing: the envelope is older than the retention, its record ended and expired.
      if (reply[0] === 'missing') return { ok: false, reason: 'expired' };
      if (reply[0] === 'refused') return { ok: false, reason: reply[1] as RefusalReason };
      const record = decodeClaimReply(reply, withFill(envelope, fill), workerId, now);
      const slot = requests[i]!.gates?.concurrency?.group;
      if (slot !== undefined) record.slot = slot;
      const cachedResult = parseCacheEntry(reply[1] ?? '');
      return cachedResult === undefined ? { ok: true, record } : { ok: true, record, cachedResult };
    });
  }

  #claimCalls(claims: Array<[ClaimRequest, string[]]>): Promise<(string | null)[][]> {
    const { prefix, pendingTtlMs } = this.#db.options;
    return this.#batched(
      claims,
      // claim.lua's ARGV[1], [5] and [10] (SHARED_ARGS.claim), sent once per call.
      [prefix, pendingTtlMs, DEFAULTS.laneStallMs],
      ([r, fields]) => [
        this.#db.key('task', r.envelope.id),
        [
          r.workerId,
          r.envelope.attempt,
          r.now,
          r.envelope.id,
          r.fill?.timeoutMs ?? '',
          r.fill?.maxAttempts ?? '',
          r.loneLosses ?? '',
          gatesArg(r.gates),
          ...fields,
        ],
      ],
      (args) => this.#db.scripts.yadtqClaimMany(...args),
    );
  }

  async finish(id: string, step: FinishStep): Promise<boolean> {
    const [written] = await this.finishMany([{ id, step }]);
    return written!;
  }

  /** One script call per {@link STEP_BATCH} finishes (finish.lua per task, in order). */
  async finishMany(requests: readonly FinishRequest[]): Promise<boolean[]> {
    const { prefix, retentionMs, pendingTtlMs } = this.#db.options;
    const replies = await this.#batched(
      requests,
      // finish.lua's ARGV[1], [11], [12] and [15] (SHARED_ARGS.finish), sent once per call.
      [prefix, retentionMs, pendingTtlMs, this.#db.channel],
      ({ id, step }) => {
        const { outcome, now } = step;
        const success = outcome.status === 'success';
        const result = success ? (outcome.result ?? null) : null;
        const cached = success && outcome.cached === true;
        const failed = outcome.status === 'failed';
        // PX takes only a whole number > 0; an odd TTL must not fail the finish halfway.
        const cacheTtlMs = Number.isFinite(step.cacheTtlMs) ? Math.floor(step.cacheTtlMs) : 0;
        const writesCache = success && !cached && cacheTtlMs > 0;
        return [
          this.#db.key('task', id),
          [
            id,
            step.workerId,
            step.attempt,
            now,
            outcome.status,
            success ? JSON.stringify(result) : '',
            failed ? JSON.stringify(outcome.error) : '',
            cached ? '1' : '0',
            failed && outcome.retryAt !== undefined ? outcome.retryAt : '',
            writesCache ? cacheTtlMs : 0,
            // The result goes last: create.lua slices it out of the entry without re-encoding.
            writesCache ? JSON.stringify({ id, finishedAt: now, result }) : '',
          ],
        ];
      },
      (args) => this.#db.scripts.yadtqFinishMany(...args),
    );
    return replies.map((written) => written === 1);
  }

  /**
   * Calls a batch script once per {@link STEP_BATCH} items (issued together, pipelined):
   * the number of keys, one task key per item, the arguments every item shares (once),
   * then per item its argument count and its own arguments. The replies, in the items'
   * order.
   */
  async #batched<I, R>(
    items: readonly I[],
    shared: ReadonlyArray<string | number>,
    encode: (item: I) => [string, Array<string | number>],
    call: (args: Array<string | number>) => Promise<R[]>,
  ): Promise<R[]> {
    const calls: Promise<R[]>[] = [];
    for (let at = 0; at < items.length; at += STEP_BATCH) {
      const keys: string[] = [];
      const args: Array<string | number> = [];
      for (const item of items.slice(at, at + STEP_BATCH)) {
        const [key, itemArgs] = encode(item);
        keys.push(key);
        args.push(itemArgs.length, ...itemArgs);
      }
      calls.push(this.#db.run(() => call([keys.length, ...keys, ...shared, ...args])));
    }
    return (await Promise.all(calls)).flat();
  }

  async get(id: string): Promise<TaskRecord | null> {
    const fields = await this.#db.run(() => this.#db.redis.hgetall(this.#db.key('task', id)));
    return decodeRecord(fields);
  }

  waitFor(id: string, timeoutMs: number): Promise<TaskRecord> {
    if (this.#db.closed) return Promise.reject(closedError());
    return this.#events.waitFor(id, timeoutMs);
  }

  async cancel(id: string, now: number): Promise<Transition> {
    const { prefix, retentionMs, pendingTtlMs } = this.#db.options;
    const reply = await this.#db.run(() =>
      this.#db.scripts.yadtqCancel(
        this.#db.key('task', id),
        prefix,
        id,
        now,
        retentionMs,
        pendingTtlMs,
        this.#db.channel,
        `${prefix}cancel`,
      ),
    );
    return decodeTransition(reply);
  }

  async resubmit(id: string, now: number): Promise<Transition> {
    const { prefix, pendingTtlMs } = this.#db.options;
    const reply = await this.#db.run(() =>
      this.#db.scripts.yadtqResubmit(this.#db.key('task', id), prefix, id, now, pendingTtlMs),
    );
    return decodeTransition(reply);
  }

  /** One HMGET per id, pipelined: a single round trip. An id whose reply failed is kept running. */
  async runsToStop(workerId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#db.redis.pipeline();
    for (const id of ids) {
      pipeline.hmget(this.#db.key('task', id), 'status', 'worker', 'cancelRequested');
    }
    const replies = await this.#db.run(() => pipeline.exec());
    return ids.filter((_, i) => {
      const [error, fields] = replies?.[i] ?? [new Error('no reply')];
      if (error != null) return false;
      const [status, worker, requested] = (fields ?? []) as (string | null)[];
      return status !== 'processing' || worker !== workerId || requested === '1';
    });
  }

  /** Subscribes to `<prefix>cancel` (on the subscriber connection) before resolving. */
  onCancel(listener: (id: string) => void): Promise<() => Promise<void>> {
    if (this.#db.closed) return Promise.reject(closedError());
    return this.#events.onCancel(listener);
  }

  async prioritize(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { prefix } = this.#db.options;
    await this.#db.run(() =>
      this.#db.scripts.yadtqPrioritize(this.#db.key('recovering'), prefix, `${prefix}turn`, ...ids),
    );
  }

  /** Subscribes to `<prefix>turn` (on the subscriber connection) before resolving. */
  onTurn(listener: (id: string) => void): Promise<() => Promise<void>> {
    if (this.#db.closed) return Promise.reject(closedError());
    return this.#events.onTurn(listener);
  }

  /** Stops the pub/sub connection; waiters are told the store closed. */
  async close(): Promise<void> {
    await this.#events.close(closedError());
  }
}

/** The envelope as the claim left its record: the filled values, without their marks. */
function withFill(envelope: TaskEnvelope, fill: OptionFill | undefined): TaskEnvelope {
  if (fill === undefined) return envelope;
  const { unset: _written, ...rest } = envelope;
  return { ...rest, ...fill };
}

/** claim.lua's ARGV[11]: '' without gates (the usual claim), else their JSON array. */
function gatesArg(gates: ClaimGates | undefined): string {
  if (gates === undefined) return '';
  const { concurrency, rate } = gates;
  return JSON.stringify([
    concurrency?.group ?? '',
    concurrency?.limit ?? 0,
    rate?.group ?? '',
    rate?.limit ?? 0,
    rate?.intervalMs ?? 0,
  ]);
}
