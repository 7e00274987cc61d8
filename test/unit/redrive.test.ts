import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkFilter, parseSince } from '../../src/core/redrive-filter.ts';
import { ledgerEntry } from '../../src/core/replay-ledger.ts';
import {
  type Backend,
  createMemoryBackend,
  DLQ_HEADERS,
  defineTask,
  encodeEnvelope,
  listDeadLetters,
  type MemoryBroker,
  replayDeadLetters,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { MemoryReplays } from '../../src/memory/memory-replays.ts';
import { until } from '../contract/contract.ts';

const mark = { at: 1, taskId: 't1', attempt: null, from: 'record' as const };

describe('the replay ledger (memory)', () => {
  test('an entry is taken once; a release frees it; an update keeps it taken', async () => {
    const ledger = new MemoryReplays();
    assert.equal(await ledger.take('0:1:5', mark, 60_000), true);
    assert.equal(await ledger.take('0:1:5', { ...mark, taskId: 'other' }, 60_000), false);
    await ledger.update('0:1:5', { ...mark, attempt: 2 });
    assert.deepEqual((await ledger.marks(['0:1:5', '0:2:5'])).get('0:1:5'), {
      ...mark,
      attempt: 2,
    });
    assert.equal((await ledger.marks(['0:2:5'])).size, 0);
    await ledger.release('0:1:5');
    assert.equal(await ledger.take('0:1:5', mark, 60_000), true);
  });

  test('of concurrent takes of one entry exactly one wins', async () => {
    const ledger = new MemoryReplays();
    const wins = await Promise.all(
      Array.from({ length: 10 }, () => ledger.take('1:7:9', mark, 60_000)),
    );
    assert.equal(wins.filter(Boolean).length, 1);
  });

  test('a mark expires after its TTL', async () => {
    const ledger = new MemoryReplays();
    await ledger.take('0:1:5', mark, 30);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await ledger.marks(['0:1:5'])).size, 0);
    assert.equal(await ledger.take('0:1:5', mark, 30), true);
  });

  test('the ledger key tells a new message at a reused offset from the marked one', () => {
    assert.notEqual(
      ledgerEntry({ partition: 0, offset: 3, timestamp: 1000 }),
      ledgerEntry({ partition: 0, offset: 3, timestamp: 2000 }),
    );
  });
});

describe('redrive filters', () => {
  test('--since takes an ISO time or a duration ago, and nothing else', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    assert.equal(parseSince('30m', now), now - 30 * 60_000);
    assert.equal(parseSince('2h', now), now - 2 * 3_600_000);
    assert.equal(parseSince('1d', now), now - 86_400_000);
    assert.equal(parseSince('45s', now), now - 45_000);
    assert.equal(parseSince('2026-02-28T10:00:00Z', now), Date.parse('2026-02-28T10:00:00Z'));
    assert.equal(parseSince('2026-02-28', now), Date.parse('2026-02-28'));
    for (const bad of ['yesterday', '30', '5w', 'March 7', '2026-13-40', '-1h', ''])
      assert.equal(parseSince(bad, now), undefined, bad);
  });

  test('a bad filter field is refused by name', () => {
    assert.throws(() => checkFilter({ reason: 'bored' as never }), /reason must be one of/);
    assert.throws(() => checkFilter({ limit: 0 }), /limit must be a whole number > 0/);
    assert.throws(() => checkFilter({ since: Number.NaN }), /since must be a finite number/);
    assert.throws(() => checkFilter({ entries: ['7'] }), /entries\[0\] must be an entry id/);
    assert.deepEqual(checkFilter({ reason: 'expired', limit: 2, entries: ['0:1'] }), {
      reason: 'expired',
      limit: 2,
      entries: ['0:1'],
    });
  });
});

describe('replayDeadLetters on the memory backend', () => {
  let backend: Backend & { broker: MemoryBroker };
  let worker: TaskWorker;
  const runs = new Map<string, number>();
  const flaky = defineTask(
    'flaky',
    async ([n]: [number], { taskId, attempt }) => {
      runs.set(taskId, (runs.get(taskId) ?? 0) + 1);
      if (attempt === 1) throw new Error(`first attempt of ${n} fails`);
      return n;
    },
    { maxAttempts: 1 },
  );
  const ids: string[] = [];
  let expiredId = '';

  before(async () => {
    backend = createMemoryBackend({ partitions: 2 });
    worker = new TaskWorker({ ...backend, id: 'redrive-unit', tasks: [flaky], concurrency: 4 });
    await worker.start();
    const client = new TaskClient(backend);
    for (let n = 0; n < 4; n++) ids.push((await client.submit(flaky, [n])).id);
    await until(async () => (await backend.broker.deadLetters(100)).length === 4);
    // Three more of other kinds, as a worker dead-letters them: a body that is no
    // task, a body cut to fit, and a complete envelope whose record expired.
    expiredId = '01EXPIREDTASK0000000000000';
    const envelope = {
      v: 1 as const,
      id: expiredId,
      name: 'flaky',
      args: [9],
      attempt: 1,
      maxAttempts: 1,
      timeoutMs: 5000,
      dedupKey: null,
      submittedAt: Date.now() - 3 * 86_400_000,
    };
    await backend.broker.produce('dead-letter', [
      { key: 'x', value: '{"id":"nope",', headers: { [DLQ_HEADERS.reason]: 'invalid-message' } },
      {
        key: 'y',
        value: encodeEnvelope({ ...envelope, id: '01CUTTASK00000000000000000' }).slice(0, 40),
        headers: {
          [DLQ_HEADERS.reason]: 'expired',
          [DLQ_HEADERS.taskId]: '01CUTTASK00000000000000000',
          [DLQ_HEADERS.originalSize]: '5000000',
          [DLQ_HEADERS.originalSha256]: 'ab'.repeat(32),
        },
      },
      {
        key: expiredId,
        value: encodeEnvelope(envelope),
        headers: { [DLQ_HEADERS.reason]: 'expired', [DLQ_HEADERS.taskId]: expiredId },
      },
    ]);
  });

  after(async () => {
    await worker.stop();
    await backend.close();
  });

  test('a dry run says what would run and writes nothing', async () => {
    const report = await replayDeadLetters(backend, { reason: 'exhausted' }, { dryRun: true });
    assert.equal(report.replayed, 4);
    assert.ok(report.results.every((r) => r.outcome === 'would-replay' && r.from === 'record'));
    assert.ok((await listDeadLetters(backend, 100)).every((d) => d.replayed === null));
    assert.ok(ids.every((id) => runs.get(id) === 1));
  });

  test('--limit replays at most N, oldest first; a second replay refuses them and takes the next', async () => {
    const first = await replayDeadLetters(backend, { reason: 'exhausted', limit: 3 });
    assert.equal(first.replayed, 3);
    const chosen = first.results.map((r) => r.taskId!);
    const listed = await listDeadLetters(backend, 100);
    const exhausted = listed.filter((d) => d.headers?.[DLQ_HEADERS.reason] === 'exhausted');
    assert.deepEqual(
      chosen,
      exhausted.slice(0, 3).map((d) => d.headers![DLQ_HEADERS.taskId]),
    );
    await until(() => chosen.every((id) => runs.get(id) === 2));
    for (const id of chosen) assert.equal((await backend.store.get(id))?.status, 'success');

    const second = await replayDeadLetters(backend, { reason: 'exhausted', limit: 3 });
    assert.deepEqual(
      second.results.map((r) => [r.outcome, r.refused ?? r.from]),
      [
        ['refused', 'already-replayed'],
        ['refused', 'already-replayed'],
        ['refused', 'already-replayed'],
        ['replayed', 'record'],
      ],
    );
    await until(() => ids.every((id) => runs.get(id) === 2));
    const marks = (await listDeadLetters(backend, 100)).filter((d) => d.replayed !== null);
    assert.equal(marks.length, 4);
    assert.ok(marks.every((d) => d.replayed!.attempt === 2 && d.replayed!.from === 'record'));
  });

  test('with the record gone: a complete envelope is made anew, a cut or invalid body never', async () => {
    const report = await replayDeadLetters(backend, { reason: 'expired' });
    const byTask = new Map(report.results.map((r) => [r.taskId, r]));
    assert.equal(byTask.get(expiredId)?.outcome, 'replayed');
    assert.equal(byTask.get(expiredId)?.from, 'body');
    assert.equal(byTask.get(expiredId)?.attempt, 2);
    assert.equal(byTask.get('01CUTTASK00000000000000000')?.refused, 'truncated');
    await until(async () => (await backend.store.get(expiredId))?.status === 'success');
    assert.equal(runs.get(expiredId), 1);
    assert.equal(runs.has('01CUTTASK00000000000000000'), false);
    const invalid = await replayDeadLetters(backend, { reason: 'invalid-message' });
    assert.equal(invalid.results[0]?.refused, 'invalid-body');
  });

  test('--task and --entry choose by task name and by entry id', async () => {
    const none = await replayDeadLetters(backend, { task: 'other' }, { dryRun: true });
    assert.equal(none.matched, 0);
    const all = await listDeadLetters(backend, 100);
    const one = all.find((d) => d.headers?.[DLQ_HEADERS.reason] === 'invalid-message')!;
    const picked = await replayDeadLetters(backend, { entries: [one.entry] }, { dryRun: true });
    assert.deepEqual(
      picked.results.map((r) => r.entry),
      [one.entry],
    );
    const named = await replayDeadLetters(backend, { task: 'flaky' }, { dryRun: true });
    // The 4 exhausted and the expired one (a cut body names no task, and its record is gone);
    // each was replayed already: nothing more would run.
    assert.equal(named.matched, 5);
    assert.equal(named.replayed, 0);
  });
});
