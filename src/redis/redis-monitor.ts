import type { Transition } from '../core/state-machine.ts';
import { type MonitorStore, type ParkedCounts, parkedCounts } from '../core/store.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { decodeRecordReply, decodeTransition } from './record-codec.ts';
import type { StoreContext } from './scripts.ts';

/**
 * The Redis {@link MonitorStore}, built by `RedisStores` on its shared connection: the leader lock `<prefix>leader`, the held sets `<prefix>held:<workerId>`
 * the scheduled set `<prefix>scheduled` (score runAt, member task id) and the recovering
 * set `<prefix>recovering` (score: when a requeued task may be taken, member task id).
 */
export class RedisMonitor implements MonitorStore {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  async lead(candidateId: string, ttlMs: number): Promise<boolean> {
    const { run, scripts, key } = this.#context;
    const held = await run(() => scripts.yadtqLead(key('leader'), candidateId, wholeMs(ttlMs)));
    return held === 1;
  }

  async resign(candidateId: string): Promise<void> {
    const { run, scripts, key } = this.#context;
    await run(() => scripts.yadtqResign(key('leader'), candidateId));
  }

  async heldBy(workerId: string): Promise<string[]> {
    const { run, redis, key } = this.#context;
    return run(() => redis.smembers(key('held', workerId)));
  }

  async requeue(id: string, workerId: string, now: number, maxLosses: number): Promise<Transition> {
    const { run, scripts, key, options, channel } = this.#context;
    const reply = await run(() =>
      scripts.yadtqRequeue(
        key('task', id),
        key('worker', workerId),
        options.prefix,
        id,
        workerId,
        now,
        maxLosses,
        options.retentionMs,
        options.pendingTtlMs,
        channel,
      ),
    );
    return decodeTransition(reply);
  }

  /** One HGETALL of `<prefix>parked`: as many fields as lanes with parked tasks. */
  async parked(limit: number): Promise<ParkedCounts> {
    const { run, redis, key } = this.#context;
    const counts = await run(() => redis.hgetall(key('parked')));
    return parkedCounts(
      Object.entries(counts).map(([group, tasks]) => [group, Number(tasks)]),
      limit,
    );
  }

  async waitingLow(limit: number): Promise<TaskRecord[]> {
    if (!(limit >= 1)) return [];
    const { run, scripts, key, options } = this.#context;
    const reply = await run(() => scripts.yadtqLow(key('low'), options.prefix, Math.floor(limit)));
    return reply.flatMap((fields) => decodeRecordReply(fields) ?? []);
  }

  async dueTasks(now: number, limit: number): Promise<TaskRecord[]> {
    if (!(limit >= 1)) return [];
    const { run, scripts, key, options } = this.#context;
    const reply = await run(() =>
      scripts.yadtqDue(key('scheduled'), options.prefix, now, Math.floor(limit)),
    );
    return reply.flatMap((fields) => decodeRecordReply(fields) ?? []);
  }

  async takeRecovered(now: number, limit: number, leaseMs: number): Promise<TaskRecord[]> {
    if (!(limit >= 1)) return [];
    const { run, scripts, key, options } = this.#context;
    const reply = await run(() =>
      scripts.yadtqTakeRecovered(
        key('recovering'),
        options.prefix,
        now,
        Math.floor(limit),
        wholeMs(leaseMs),
      ),
    );
    return reply.flatMap((fields) => decodeRecordReply(fields) ?? []);
  }

  async promote(id: string, attempt: number, now: number): Promise<Transition> {
    const { run, scripts, key, options } = this.#context;
    const reply = await run(() =>
      scripts.yadtqPromote(key('task', id), options.prefix, id, attempt, now, options.pendingTtlMs),
    );
    return decodeTransition(reply);
  }
}

/** A TTL as PX takes it: a whole number of ms > 0. */
export function wholeMs(ms: number): number {
  return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms)) : 1;
}
