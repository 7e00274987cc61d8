import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStats, STATS_LIMITS, type TaskOutcomeEvent } from '../../src/index.ts';
import { deleteKeys, REDIS_URL, uniqueNames } from './services.ts';

describe('RedisStats', () => {
  const { prefix } = uniqueNames('stats');
  const stats = new RedisStats({ url: REDIS_URL, prefix });
  const redis = new Redis(REDIS_URL);

  after(async () => {
    await stats.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  test('the same counts, percentiles and lists as the memory stats', async () => {
    const at = Date.now();
    const base = { workerId: 'w1', cached: false, finishedAt: at };
    for (const [i, ms] of [10, 20, 30, 40, 100].entries()) {
      await stats.record({
        ...base,
        taskId: `a${i}`,
        name: 'add',
        status: 'success',
        durationMs: ms,
      });
    }
    await stats.record({
      ...base,
      taskId: 'd1',
      name: 'div',
      workerId: 'w2',
      status: 'failed',
      durationMs: 5,
      error: 'division by zero',
    });
    const snap = await stats.snapshot(at);
    assert.deepEqual(snap.totals, { success: 5, failed: 1, retrying: 0, cancelled: 0, cached: 0 });
    const add = snap.names.find((n) => n.name === 'add')!;
    assert.deepEqual(add.durations, { samples: 5, p50: 30, p95: 100, max: 100, mean: 40 });
    assert.deepEqual(
      snap.workers.map((w) => [w.workerId, w.processed, w.failed, w.busyMs]),
      [
        ['w1', 5, 0, 200],
        ['w2', 0, 1, 5],
      ],
    );
    assert.equal(snap.failures[0]!.error, 'division by zero');
    assert.equal(snap.throughput.at(-1)!.success, 5);
    assert.equal(snap.histogram.find((h) => h.name === 'add')!.count, 5);
    assert.deepEqual(
      (await stats.recentTasks({ status: 'failed' })).map((t) => t.id),
      ['d1'],
    );
    assert.deepEqual(
      (await stats.recentTasks({ limit: 2 })).map((t) => t.id),
      ['d1', 'a4'],
    );
  });

  test('memory stays flat: 20,000 outcomes leave a bounded number of keys and entries', async () => {
    const start = Date.now() - 20 * 60_000;
    const events: TaskOutcomeEvent[] = Array.from({ length: 20_000 }, (_, i) => ({
      taskId: `t${i}`,
      name: `name${i % 300}`,
      workerId: `worker${i % 250}`,
      status: i % 7 === 0 ? 'failed' : 'success',
      durationMs: i % 250,
      finishedAt: start + i * 60,
      cached: false,
      ...(i % 7 === 0 ? { error: `error ${i}` } : {}),
    }));
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((e) => stats.record(e)));
    }
    const keys = await redis.keys(`${prefix}stats:*`);
    const count = (kind: string) =>
      keys.filter((k) => k.startsWith(`${prefix}stats:${kind}`)).length;
    let bytes = 0;
    for (const key of keys) bytes += (await redis.call('MEMORY', 'USAGE', key)) as number;
    console.log(
      `20,006 outcomes → ${keys.length} stats keys, ${(bytes / 1024).toFixed(0)} KiB (MEMORY USAGE)`,
    );
    assert.ok(count('name:') <= STATS_LIMITS.names + 1, `name hashes: ${count('name:')}`);
    assert.ok(count('durations:') <= STATS_LIMITS.names + 1);
    assert.ok(count('worker:') <= STATS_LIMITS.workers, `worker hashes: ${count('worker:')}`);
    assert.ok(count('tp:') <= STATS_LIMITS.buckets + 1, `throughput buckets: ${count('tp:')}`);
    assert.equal(await redis.scard(`${prefix}stats:names`), STATS_LIMITS.names + 1);
    assert.ok((await redis.zcard(`${prefix}stats:workers`)) <= STATS_LIMITS.workers);
    assert.equal(await redis.llen(`${prefix}stats:recent`), STATS_LIMITS.recentTasks);
    assert.equal(await redis.llen(`${prefix}stats:failures`), STATS_LIMITS.failures);
    for (const key of keys.filter((k) => k.includes(':durations:'))) {
      assert.ok((await redis.llen(key)) <= STATS_LIMITS.durationsPerName);
    }
    for (const key of keys.filter((k) => k.includes(':tp:') || k.includes(':worker:'))) {
      // -1 is a key without a TTL; -2 one that expired since KEYS listed it (the oldest
      // buckets here are 20 minutes old).
      assert.notEqual(await redis.pttl(key), -1, `${key} has a TTL`);
    }
    const snap = await stats.snapshot();
    assert.equal(snap.totals.success + snap.totals.failed, 20_006);
    assert.ok(bytes < 2 * 1024 * 1024, `stats use ${bytes} bytes`);
  });
});
