import type { Schedule, ScheduleStore } from '../core/schedule/schedule.ts';
import type { StoreContext } from './scripts.ts';

/**
 * The Redis {@link ScheduleStore}: `<prefix>schedules` (name → the definition's JSON),
 * `<prefix>schedule-next` (score: the next tick, member: name) and `<prefix>schedule-fired`
 * (name → the last tick fired). No TTL: as durable as the Redis they are on (its AOF or
 * replicas); a Redis that lost them has no schedules until they are added again.
 */
export class RedisSchedules implements ScheduleStore {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  async putSchedule(schedule: Schedule): Promise<void> {
    const { run, redis, key } = this.#context;
    const { next, lastTick: _lastTick, ...definition } = schedule;
    await run(() =>
      redis
        .multi()
        .hset(key('schedules'), schedule.name, JSON.stringify(definition))
        .zadd(key('schedule-next'), next, schedule.name)
        .hdel(key('schedule-fired'), schedule.name)
        .exec(),
    );
  }

  async removeSchedule(name: string): Promise<boolean> {
    const { run, redis, key } = this.#context;
    const replies = await run(() =>
      redis
        .multi()
        .hdel(key('schedules'), name)
        .zrem(key('schedule-next'), name)
        .hdel(key('schedule-fired'), name)
        .exec(),
    );
    return replies?.[0]?.[1] === 1;
  }

  async schedules(): Promise<Schedule[]> {
    const { run, redis, key } = this.#context;
    const names = (await run(() => redis.hkeys(key('schedules')))).sort();
    return this.#read(names);
  }

  async dueSchedules(now: number, limit: number): Promise<Schedule[]> {
    const { run, redis, key } = this.#context;
    const names = await run(() =>
      redis.zrangebyscore(key('schedule-next'), '-inf', now, 'LIMIT', 0, limit),
    );
    return this.#read(names);
  }

  async advanceSchedule(name: string, from: number, to: number, fired?: number): Promise<boolean> {
    const { run, scripts, key } = this.#context;
    const moved = await run(() =>
      scripts.yadtqAdvanceSchedule(
        key('schedule-next'),
        key('schedule-fired'),
        name,
        from,
        to,
        fired ?? '',
      ),
    );
    return moved === 1;
  }

  /** The schedules of these names that exist, in this order. */
  async #read(names: readonly string[]): Promise<Schedule[]> {
    if (names.length === 0) return [];
    const { run, redis, key } = this.#context;
    const [definitions, nexts, fired] = await run(() =>
      Promise.all([
        redis.hmget(key('schedules'), ...names),
        Promise.all(names.map((name) => redis.zscore(key('schedule-next'), name))),
        redis.hmget(key('schedule-fired'), ...names),
      ]),
    );
    return names.flatMap((_name, i): Schedule[] => {
      const definition = definitions[i];
      const next = nexts[i];
      if (definition == null || next == null) return [];
      const lastTick = fired[i];
      return [
        {
          ...(JSON.parse(definition) as Omit<Schedule, 'next'>),
          next: Number(next),
          ...(lastTick == null ? {} : { lastTick: Number(lastTick) }),
        },
      ];
    });
  }
}
