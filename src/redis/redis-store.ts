import { Redis } from 'ioredis';
import type { TaskEnvelope } from '../core/envelope.ts';
import { YadtqError } from '../core/errors.ts';
import { isExpired, type RefusalReason, type Transition } from '../core/state-machine.ts';
import type {
  ClaimOutcome,
  CreateOutcome,
  FinishStep,
  MonitorStore,
  Store,
  WorkerInfo,
} from '../core/store.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { recordFromEnvelope } from '../core/task-record.ts';
import type { OptionFill } from '../core/unset-options.ts';
import type { Watchdog, WatchdogConfig, WatchdogStore } from '../core/worker/watchdog.ts';
import { closeConnection, redactUrl, whenReady } from './connection.ts';
import type { RedisStoreOptions, ResolvedRedisStoreOptions } from './options.ts';
import { resolveRedisStoreOptions } from './options.ts';
import {
  decodeClaimReply,
  decodeRecord,
  decodeRecordReply,
  decodeTransition,
  parseCacheEntry,
  recordToArgs,
} from './record-codec.ts';
import { RedisMonitor } from './redis-monitor.ts';
import { startRedisWatchdog } from './redis-watchdog.ts';
import { RedisWorkers } from './redis-workers.ts';
import { defineScripts, type ScriptCommands } from './scripts.ts';
import { TaskEvents } from './task-events.ts';

/** Records one create script writes at most: bounds how long one call holds Redis. */
const CREATE_BATCH = 100;

/**
 * The production {@link Store} and {@link MonitorStore}: one hash per task, every change
 * of a task one Lua script, finished task ids announced on the `<prefix>events` channel
 * and ids of running tasks to cancel on `<prefix>cancel`. The monitor's part lives in
 * {@link RedisMonitor}, the worker registry in {@link RedisWorkers}.
 */
export class RedisStore implements Store, MonitorStore, WatchdogStore {
  readonly #options: ResolvedRedisStoreOptions;
  readonly #redis: Redis;
  readonly #scripts: ScriptCommands;
  readonly #ownsClient: boolean;
  readonly #where: string;
  readonly #channel: string;
  readonly #events: TaskEvents;
  readonly #monitor: RedisMonitor;
  readonly #workers: RedisWorkers;
  #lastError: Error | null = null;
  #closed = false;

  /**
   * Connects in the background: an unreachable server fails the first command with
   * STORE_UNAVAILABLE, never the constructor.
   * @throws YadtqError INVALID_OPTION naming a bad option.
   */
  constructor(options: RedisStoreOptions = {}) {
    this.#options = resolveRedisStoreOptions(options);
    const { client, url, connectTimeoutMs, redis, prefix } = this.#options;
    this.#ownsClient = client === null;
    // A given client was checked to be an ioredis instance when the options were resolved.
    this.#redis =
      (client as Redis | null) ??
      new Redis(url, {
        connectTimeout: connectTimeoutMs,
        // A server that stops answering (paused, or cut off without a reset) fails each
        // command after this bound instead of leaving it pending for ever.
        commandTimeout: connectTimeoutMs,
        enableAutoPipelining: true,
        ...redis,
      });
    this.#where =
      client === null ? redactUrl(url) : `${client.options.host}:${client.options.port}`;
    if (this.#ownsClient) this.#redis.on('error', this.#recordError);
    this.#scripts = defineScripts(this.#redis);
    this.#channel = `${prefix}events`;
    this.#events = new TaskEvents({
      channel: this.#channel,
      cancelChannel: `${prefix}cancel`,
      connect: () => {
        const subscriber = this.#redis.duplicate({ enableAutoPipelining: false });
        subscriber.on('error', this.#recordError);
        return subscriber;
      },
      call: (connection, command) => this.#call(connection, command),
      read: (id) => this.get(id),
    });
    const context = {
      options: this.#options,
      redis: this.#redis,
      scripts: this.#scripts,
      channel: this.#channel,
      key: (kind: string, id?: string) => this.#key(kind, id),
      run: <T>(command: () => Promise<T>) => this.#call(this.#redis, command),
    };
    this.#monitor = new RedisMonitor(context);
    this.#workers = new RedisWorkers(context);
  }

  async create(
    record: TaskRecord,
    options: { dedup: boolean; useCache: boolean },
  ): Promise<CreateOutcome> {
    const [outcome] = await this.createMany([record], options);
    return outcome!;
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
    const { prefix, pendingTtlMs, retentionMs } = this.#options;
    const keys: string[] = [];
    const args: Array<string | number> = [prefix, pendingTtlMs, retentionMs, this.#channel];
    for (const record of records) {
      const dedupKey = record.dedupKey ?? '';
      keys.push(
        this.#key('task', record.id),
        this.#key('dedup', dedupKey),
        this.#key('cache', dedupKey),
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
    const replies = await this.#call(this.#redis, () =>
      this.#scripts.yadtqCreate(keys.length, ...keys, ...args),
    );
    return replies.map((reply): CreateOutcome => {
      if (reply[0] === 'duplicate') return { kind: 'duplicate', id: reply[1]! };
      if (reply[0] === 'cached') return { kind: 'cached', record: decodeRecordReply(reply, 1)! };
      return { kind: 'created' };
    });
  }

  async discard(id: string): Promise<void> {
    await this.#call(this.#redis, () =>
      this.#scripts.yadtqDiscard(this.#key('task', id), this.#options.prefix, id),
    );
  }

  async claim(
    envelope: TaskEnvelope,
    workerId: string,
    now: number,
    fill?: OptionFill,
    loneLosses?: number,
  ): Promise<ClaimOutcome> {
    const { prefix, pendingTtlMs } = this.#options;
    const claim = (fields: string[]) =>
      this.#call(this.#redis, () =>
        this.#scripts.yadtqClaim(
          this.#key('task', envelope.id),
          prefix,
          workerId,
          envelope.attempt,
          now,
          pendingTtlMs,
          envelope.id,
          fill?.timeoutMs ?? '',
          fill?.maxAttempts ?? '',
          loneLosses ?? '',
          ...fields,
        ),
      );
    // The record nearly always exists (the client wrote it): send it only when it does not.
    let reply = await claim([]);
    if (reply[0] === 'missing') {
      if (isExpired(envelope, now, this.#options.retentionMs))
        return { ok: false, reason: 'expired' };
      reply = await claim(recordToArgs(recordFromEnvelope(envelope)));
    }
    if (reply[0] === 'refused') return { ok: false, reason: reply[1] as RefusalReason };
    const record = decodeClaimReply(reply, withFill(envelope, fill), workerId, now);
    const cachedResult = parseCacheEntry(reply[1] ?? '');
    return cachedResult === undefined ? { ok: true, record } : { ok: true, record, cachedResult };
  }

  async finish(id: string, step: FinishStep): Promise<boolean> {
    const { outcome, now } = step;
    const success = outcome.status === 'success';
    const result = success ? (outcome.result ?? null) : null;
    const cached = success && outcome.cached === true;
    const failed = outcome.status === 'failed';
    // PX takes only a whole number > 0; an odd TTL must not fail the finish halfway.
    const cacheTtlMs = Number.isFinite(step.cacheTtlMs) ? Math.floor(step.cacheTtlMs) : 0;
    const writesCache = success && !cached && cacheTtlMs > 0;
    const { prefix, retentionMs, pendingTtlMs } = this.#options;
    const written = await this.#call(this.#redis, () =>
      this.#scripts.yadtqFinish(
        this.#key('task', id),
        prefix,
        id,
        step.workerId,
        step.attempt,
        now,
        outcome.status,
        success ? JSON.stringify(result) : '',
        failed ? JSON.stringify(outcome.error) : '',
        cached ? '1' : '0',
        failed && outcome.retryAt !== undefined ? outcome.retryAt : '',
        retentionMs,
        pendingTtlMs,
        writesCache ? cacheTtlMs : 0,
        // The result goes last: create.lua slices it out of the entry without re-encoding.
        writesCache ? JSON.stringify({ id, finishedAt: now, result }) : '',
        this.#channel,
      ),
    );
    return written === 1;
  }

  async get(id: string): Promise<TaskRecord | null> {
    const fields = await this.#call(this.#redis, () => this.#redis.hgetall(this.#key('task', id)));
    return decodeRecord(fields);
  }

  waitFor(id: string, timeoutMs: number): Promise<TaskRecord> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#events.waitFor(id, timeoutMs);
  }

  registerWorker(info: WorkerInfo, ttlMs: number): Promise<void> {
    return this.#workers.register(info, ttlMs);
  }

  /** Beats from a worker thread with a connection of its own (see `WatchdogStore`). */
  startWatchdog(config: WatchdogConfig): Watchdog | undefined {
    const keys = {
      heartbeatKey: this.#key('worker', config.info.id),
      workersKey: this.#key('workers'),
    };
    return startRedisWatchdog(this.#options, keys, config);
  }

  heartbeat(info: WorkerInfo, ttlMs: number): Promise<void> {
    return this.#workers.heartbeat(info, ttlMs);
  }

  deregisterWorker(id: string): Promise<void> {
    return this.#workers.deregister(id);
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#workers.list();
  }

  async cancel(id: string, now: number): Promise<Transition> {
    const { prefix, retentionMs, pendingTtlMs } = this.#options;
    const reply = await this.#call(this.#redis, () =>
      this.#scripts.yadtqCancel(
        this.#key('task', id),
        prefix,
        id,
        now,
        retentionMs,
        pendingTtlMs,
        this.#channel,
        `${prefix}cancel`,
      ),
    );
    return decodeTransition(reply);
  }

  async resubmit(id: string, now: number): Promise<Transition> {
    const { prefix, pendingTtlMs } = this.#options;
    const reply = await this.#call(this.#redis, () =>
      this.#scripts.yadtqResubmit(this.#key('task', id), prefix, id, now, pendingTtlMs),
    );
    return decodeTransition(reply);
  }

  /** One HGET per id, pipelined: a single round trip. */
  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hmget(this.#key('task', id), 'status', 'cancelRequested');
    const replies = await this.#call(this.#redis, () => pipeline.exec());
    return ids.filter((_, i) => {
      const [error, fields] = replies?.[i] ?? [];
      const [status, requested] = (fields ?? []) as (string | null)[];
      return error == null && status === 'processing' && requested === '1';
    });
  }

  /** Subscribes to `<prefix>cancel` (on the subscriber connection) before resolving. */
  onCancel(listener: (id: string) => void): Promise<() => Promise<void>> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#events.onCancel(listener);
  }

  lead(candidateId: string, ttlMs: number): Promise<boolean> {
    return this.#monitor.lead(candidateId, ttlMs);
  }

  resign(candidateId: string): Promise<void> {
    return this.#monitor.resign(candidateId);
  }

  heldBy(workerId: string): Promise<string[]> {
    return this.#monitor.heldBy(workerId);
  }

  requeue(id: string, workerId: string, now: number, maxLosses: number): Promise<Transition> {
    return this.#monitor.requeue(id, workerId, now, maxLosses);
  }

  takeRecovered(now: number, limit: number, leaseMs: number): Promise<TaskRecord[]> {
    return this.#monitor.takeRecovered(now, limit, leaseMs);
  }

  dueTasks(now: number, limit: number): Promise<TaskRecord[]> {
    return this.#monitor.dueTasks(now, limit);
  }

  promote(id: string, attempt: number, now: number): Promise<Transition> {
    return this.#monitor.promote(id, attempt, now);
  }

  /** Closes the connections this store opened (never a `client` it was given). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([
      this.#events.close(closedError()),
      this.#ownsClient ? closeConnection(this.#redis) : undefined,
    ]);
  }

  #key(kind: string, id?: string): string {
    const { prefix } = this.#options;
    return id === undefined ? `${prefix}${kind}` : `${prefix}${kind}:${id}`;
  }

  /** Runs a command once `connection` is ready; connection trouble → STORE_UNAVAILABLE. */
  async #call<T>(connection: Redis, command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    if (connection.status !== 'ready') {
      await whenReady(connection, this.#options.connectTimeoutMs, () => this.#unavailable());
    }
    try {
      return await command();
    } catch (error) {
      // A ReplyError is Redis answering (a script or command error), not connection trouble.
      if ((error as Error).name === 'ReplyError') throw error;
      throw this.#unavailable(error as Error);
    }
  }

  #unavailable(cause: Error | null = this.#lastError): YadtqError {
    const detail = cause === null ? '' : `: ${cause.message}`;
    return new YadtqError(
      'STORE_UNAVAILABLE',
      `cannot reach Redis at ${this.#where} (waited up to ${this.#options.connectTimeoutMs} ms)${detail}`,
      { retriable: true, cause },
    );
  }

  readonly #recordError = (error: Error): void => {
    this.#lastError = error;
  };
}

/** The envelope as the claim left its record: the filled values, without their marks. */
function withFill(envelope: TaskEnvelope, fill: OptionFill | undefined): TaskEnvelope {
  if (fill === undefined) return envelope;
  const { unset: _written, ...rest } = envelope;
  return { ...rest, ...fill };
}

function closedError(): YadtqError {
  return new YadtqError('CLOSED', 'the Redis store is closed');
}
