// The chaos test's task, loaded by its worker processes:
//   yadtq worker <id> --tasks chaos/tasks.ts
// Each run sleeps the given 1-50 ms and records itself in the same Redis as the queue (the
// run reads YADTQ_REDIS_URL and YADTQ_PREFIX, as the CLI does): `<prefix>chaos:start:<id>`
// counts handler starts (runs cut short by a kill included), `<prefix>chaos:exec:<id>`
// counts completed runs, and `<prefix>chaos:by:<id>` lists `<worker>#<attempt>` per
// completed run, so chaos/run.ts can count tasks executed more than once and say where;
// `<prefix>chaos:span:<id>` holds `<start>,<end>` (wall-clock ms) of its last completed
// run, for the lane check (chaos/lanes.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { defineTask } from '../src/index.ts';

/** The result a run of task `index` must return; anything else is a wrong result. */
export function expectedResult(index: number): number {
  return index * 7 + 3;
}

/** The Redis keys one task's runs are recorded under. */
export function chaosKeys(prefix: string, taskId: string) {
  return {
    start: `${prefix}chaos:start:${taskId}`,
    exec: `${prefix}chaos:exec:${taskId}`,
    by: `${prefix}chaos:by:${taskId}`,
    span: `${prefix}chaos:span:${taskId}`,
  };
}

let redis: Redis | undefined;

function recorder(): Redis {
  if (redis === undefined) {
    redis = new Redis(process.env.YADTQ_REDIS_URL ?? 'redis://localhost:6379', {
      enableAutoPipelining: true,
    });
    // Reconnects by itself; a failed INCR fails the run like any handler error would.
    redis.on('error', () => {});
  }
  return redis;
}

/** `[index, sleepMs]`: waits sleepMs, returns expectedResult(index). Distinct args: no dedup. */
export const chaos = defineTask(
  'chaos',
  async ([index, sleepMs]: [number, number], { taskId, workerId, attempt, signal }) => {
    const keys = chaosKeys(process.env.YADTQ_PREFIX ?? 'yadtq:', taskId);
    await recorder().incr(keys.start);
    const startedAt = Date.now();
    await sleep(sleepMs, undefined, { signal });
    const result = expectedResult(index);
    await Promise.all([
      recorder().incr(keys.exec),
      recorder().rpush(keys.by, `${workerId}#${attempt}`),
      recorder().set(keys.span, `${startedAt},${Date.now()}`),
    ]);
    return result;
  },
  { dedup: false, timeoutMs: 20_000 },
);
