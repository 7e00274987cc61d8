import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createMemoryBackend,
  defineTask,
  readOverview,
  STATS_LIMITS,
  TaskClient,
  type TaskOutcomeEvent,
  TaskWorker,
} from '../../src/index.ts';
import { MemoryStats } from '../../src/memory/memory-stats.ts';
import { until } from '../contract/contract.ts';

function event(i: number, overrides: Partial<TaskOutcomeEvent> = {}): TaskOutcomeEvent {
  return {
    taskId: `t${i}`,
    name: `task${i % 5}`,
    workerId: `w${i % 3}`,
    status: i % 4 === 0 ? 'failed' : 'success',
    durationMs: i % 100,
    finishedAt: 1_700_000_000_000 + i * 50,
    cached: false,
    ...(i % 4 === 0 ? { error: `boom ${i}` } : {}),
    ...overrides,
  };
}

describe('MemoryStats', () => {
  test('counts outcomes per name and worker, with percentiles and recent failures', async () => {
    const stats = new MemoryStats();
    const at = 1_700_000_000_000;
    for (const [i, ms] of [10, 20, 30, 40, 100].entries()) {
      await stats.record(
        event(i, {
          name: 'add',
          workerId: 'w1',
          status: 'success',
          durationMs: ms,
          finishedAt: at,
        }),
      );
    }
    await stats.record(
      event(9, {
        name: 'div',
        workerId: 'w2',
        status: 'failed',
        error: 'division by zero',
        durationMs: 5,
        finishedAt: at + 1,
      }),
    );
    await stats.record(
      event(10, { name: 'add', workerId: 'w2', cached: true, durationMs: 0, finishedAt: at + 2 }),
    );
    const snap = await stats.snapshot(at + 5);
    assert.deepEqual(snap.totals, { success: 6, failed: 1, retrying: 0, cancelled: 0, cached: 1 });
    const add = snap.names.find((n) => n.name === 'add')!;
    assert.equal(add.counts.success, 6);
    assert.deepEqual(add.durations, { samples: 5, p50: 30, p95: 100, max: 100, mean: 40 });
    assert.deepEqual(
      snap.workers.map((w) => [w.workerId, w.processed, w.failed, w.busyMs]),
      [
        ['w1', 5, 0, 200],
        ['w2', 1, 1, 5],
      ],
    );
    assert.equal(snap.failures.length, 1);
    assert.equal(snap.failures[0]!.error, 'division by zero');
    assert.equal(snap.throughput.length, STATS_LIMITS.buckets);
    assert.equal(snap.throughput.at(-1)!.success, 6);
    assert.equal(snap.throughput.at(-1)!.failed, 1);
    const hist = snap.histogram.find((h) => h.name === 'add')!;
    assert.equal(hist.count, 5);
    assert.equal(hist.buckets.at(-1), 5);
    const recent = await stats.recentTasks({ limit: 3 });
    assert.deepEqual(
      recent.map((t) => t.id),
      ['t10', 't9', 't4'],
    );
    assert.deepEqual(
      (await stats.recentTasks({ status: 'failed' })).map((t) => t.id),
      ['t9'],
    );
  });

  test('stays bounded after 20,000 outcomes over many names and workers', async () => {
    const stats = new MemoryStats();
    for (let i = 0; i < 20_000; i++) {
      await stats.record(event(i, { name: `name${i % 400}`, workerId: `worker${i % 300}` }));
    }
    const sizes = stats.sizes();
    assert.ok(sizes.names! <= STATS_LIMITS.names + 1, JSON.stringify(sizes));
    assert.ok(sizes.durations! <= (STATS_LIMITS.names + 1) * STATS_LIMITS.durationsPerName);
    assert.ok(sizes.workers! <= STATS_LIMITS.workers);
    assert.equal(sizes.failures, STATS_LIMITS.failures);
    assert.equal(sizes.recent, STATS_LIMITS.recentTasks);
    assert.ok(sizes.buckets! <= STATS_LIMITS.buckets + 1);
    const snap = await stats.snapshot(1_700_000_000_000 + 20_000 * 50);
    assert.equal(snap.totals.success + snap.totals.failed, 20_000);
    assert.ok(snap.names.some((n) => n.name === '(other)'));
  });

  test('a memory backend reports outcomes, lag and owners through readOverview', async () => {
    const backend = createMemoryBackend({ partitions: 2 });
    const ok = defineTask('ok', (_: number[]) => 1);
    const bad = defineTask('bad', (): number => {
      throw new Error('nope');
    });
    const worker = new TaskWorker({
      id: 'mw1',
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      stats: backend.stats,
      tasks: [ok, bad],
      heartbeatIntervalMs: 50,
    });
    await worker.start();
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    try {
      const handles = [
        ...(await client.submitMany(ok, [[1], [2], [3]])),
        await client.submit(bad, []),
      ];
      await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 5000 })));
      // A worker writes its outcome stats about once a second.
      let view = await readOverview(backend);
      await until(async () => {
        view = await readOverview(backend);
        return view.status.success + view.status.failed === 4;
      }, 5000);
      assert.equal(view.status.success, 3);
      assert.equal(view.status.failed, 1);
      assert.equal(view.status.queued, 0);
      assert.equal(view.lag?.total, 0);
      assert.deepEqual(
        view.lag?.partitions.map((p) => p.owner),
        ['mw1', 'mw1'],
      );
      assert.equal(view.workers[0]!.id, 'mw1');
      assert.equal(view.workers[0]!.alive, true);
      assert.equal(view.stats.failures[0]!.error, 'nope');
    } finally {
      await worker.stop();
      await backend.close();
    }
  });
});
