import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nextTick } from '../../src/core/schedule/cron.ts';
import {
  createMemoryBackend,
  defineTask,
  TaskClient,
  TaskWorker,
  type YadtqError,
} from '../../src/index.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('a schedule every second on two workers (the embedded pair) creates one task per tick, each run once', async () => {
  const backend = createMemoryBackend();
  const runs = new Map<string, number>();
  const tick = defineTask('tick', async (n: number, { taskId }) => {
    runs.set(taskId, (runs.get(taskId) ?? 0) + 1);
    return n * 2;
  });
  const client = new TaskClient({ ...backend, schedules: backend.schedules });
  const workers = ['w0', 'w1'].map(
    (id) =>
      new TaskWorker({
        id,
        ...backend,
        tasks: [tick],
        monitor: { intervalMs: 100 },
      }),
  );
  for (const w of workers) await w.start();
  const schedule = await client.schedule('every-second', tick, 21, { cron: '* * * * * *' });
  assert.equal(schedule.next % 1000, 0, 'the first tick is a whole second');
  await sleep(3600);
  assert.equal(await client.unschedule('every-second'), true);
  const removedAt = Date.now();
  await sleep(400);
  for (const w of workers) await w.stop();
  const ids = [...runs.keys()].sort();
  assert.ok(ids.length >= 3, `ticks: ${ids.join(' ')}`);
  // Consecutive seconds from the first tick, each run once.
  for (const [i, id] of ids.entries()) {
    assert.equal(id, `every-second:${iso(schedule.next + i * 1000)}`);
  }
  for (const [id, count] of runs) assert.equal(count, 1, id);
  assert.ok(Date.parse(ids.at(-1)!.slice('every-second:'.length)) <= removedAt);
  assert.equal((await client.status(ids[0]!))?.result, 42);
  await backend.close();
});

test('bad schedules fail with INVALID_OPTION naming what is wrong; a client without a schedule store says so', async () => {
  const backend = createMemoryBackend();
  const client = new TaskClient({ ...backend, schedules: backend.schedules });
  const bad: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['cron', () => client.schedule('a', 't', null, { cron: '* * *' }), /3 fields/],
    ['cron value', () => client.schedule('a', 't', null, { cron: '61 * * * *' }), /not valid/],
    [
      'zone',
      () => client.schedule('a', 't', null, { cron: '* * * * *', tz: 'Mars/Base' }),
      /Mars\/Base/,
    ],
    ['name', () => client.schedule('a b', 't', null, { cron: '* * * * *' }), /schedule name/],
    [
      'catchUp',
      () => client.schedule('a', 't', null, { cron: '* * * * *', catchUp: 'yes' as never }),
      /catchUp/,
    ],
    [
      'attempts',
      () => client.schedule('a', 't', null, { cron: '* * * * *', maxAttempts: 0 }),
      /maxAttempts/,
    ],
  ];
  for (const [what, call, message] of bad) {
    await assert.rejects(
      call,
      (e: YadtqError) => e.code === 'INVALID_OPTION' && message.test(e.message),
      what,
    );
  }
  await assert.rejects(
    client.schedule('a', 't', () => 1, { cron: '* * * * *' }),
    { code: 'INVALID_ARGS' },
  );
  assert.deepEqual(await client.schedules(), [], 'nothing was stored');
  const plain = new TaskClient({ broker: backend.broker, store: backend.store });
  assert.throws(() => plain.schedules(), { code: 'INVALID_OPTION' });
  await backend.close();
});

test('daylight saving with a time zone: as the README states', () => {
  const paris = (cron: string) => ({ cron, tz: 'Europe/Paris' });
  // Spring forward (29 March 2026, 02:00 → 03:00): a daily 02:30 that does not exist runs at 03:30 CEST.
  assert.equal(
    iso(nextTick(paris('30 2 * * *'), at('2026-03-28T12:00:00Z'))),
    '2026-03-29T01:30:00.000Z',
  );
  // Fall back (25 October 2026, 03:00 → 02:00): a daily 02:30 runs once, at its first occurrence (CEST).
  const first = nextTick(paris('30 2 * * *'), at('2026-10-24T12:00:00Z'));
  assert.equal(iso(first), '2026-10-25T00:30:00.000Z');
  assert.equal(iso(nextTick(paris('30 2 * * *'), first)), '2026-10-26T01:30:00.000Z');
  // An every-30-minutes schedule keeps real time: the repeated hour's ticks all run.
  const ticks: string[] = [];
  let t = at('2026-10-24T23:45:00Z');
  for (let i = 0; i < 4; i++) {
    t = nextTick(paris('*/30 * * * *'), t);
    ticks.push(iso(t));
  }
  assert.deepEqual(ticks, [
    '2026-10-25T00:00:00.000Z',
    '2026-10-25T00:30:00.000Z',
    '2026-10-25T01:00:00.000Z',
    '2026-10-25T01:30:00.000Z',
  ]);
});
