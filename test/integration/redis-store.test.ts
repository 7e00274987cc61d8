import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { isYadtqError } from '../../src/core/errors.ts';
import { workerLostError } from '../../src/core/state-machine.ts';
import type { Stores } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';
import { memoryStores } from '../../src/memory/memory-store.ts';
import type { RedisStoreOptions } from '../../src/redis/options.ts';
import { decodeRecordReply } from '../../src/redis/record-codec.ts';
import { RedisStores } from '../../src/redis/redis-stores.ts';
import { TaskEvents } from '../../src/redis/task-events.ts';
import {
  boom,
  claimed,
  createOne,
  DEDUP,
  envelope,
  record,
  success,
  T0,
  worker,
} from '../contract/store-fixtures.ts';

const url = process.env.YADTQ_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A store on a fresh key prefix, plus a plain connection to look at its keys. */
async function setup(t: test.TestContext, options: RedisStoreOptions = {}) {
  const prefix = `yadtq-test:${randomUUID()}:`;
  const stores = new RedisStores({ url, prefix, ...options });
  const { store, registry, monitorStore: monitor } = stores;
  const admin = new Redis(url);
  t.after(async () => {
    await stores.close();
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  });
  return { stores, store, registry, monitor, admin, prefix };
}

test('create writes a queued record with pending TTLs, then answers duplicates', async (t) => {
  const { store, admin, prefix } = await setup(t, { pendingTtlMs: 60_000 });
  const first = record();
  assert.deepEqual(await createOne(store, first, DEDUP), { kind: 'created' });
  assert.deepEqual(await store.get(first.id), first);
  const recordTtl = await admin.pttl(`${prefix}task:${first.id}`);
  assert.ok(recordTtl > 0 && recordTtl <= 60_000, `record PTTL ${recordTtl}`);
  assert.equal(await admin.get(`${prefix}dedup:add:abc`), first.id);
  const dedupTtl = await admin.pttl(`${prefix}dedup:add:abc`);
  assert.ok(dedupTtl > 0 && dedupTtl <= 60_000, `dedup PTTL ${dedupTtl}`);

  const second = record();
  assert.deepEqual(await createOne(store, second, DEDUP), { kind: 'duplicate', id: first.id });
  assert.equal(await store.get(second.id), null);
  assert.deepEqual(
    await store.createMany([second], { dedup: false, useCache: true }).then(([o]) => o!),
    {
      kind: 'created',
    },
  );
  assert.equal(await admin.get(`${prefix}dedup:add:abc`), first.id);
});

test('claim: a duplicate claim, a stale attempt and a finished task are refused', async (t) => {
  const { store, registry } = await setup(t);
  await registry.register(worker('w1'), 10_000);
  const r = record();
  await createOne(store, r, DEDUP);
  const claimed = await store.claim(envelope(r), 'w1', T0 + 10);
  assert.deepEqual(claimed, {
    ok: true,
    record: { ...r, status: 'processing', worker: 'w1', startedAt: T0 + 10 },
  });
  assert.deepEqual(await store.claim(envelope(r), 'w2', T0 + 20), { ok: false, reason: 'held' });
  assert.deepEqual(await store.claim(envelope(r, 2), 'w2', T0 + 20), {
    ok: false,
    reason: 'stale-attempt',
  });
  const finish = { workerId: 'w1', attempt: 1, now: T0 + 30, outcome: success(3), cacheTtlMs: 0 };
  assert.equal(await store.finish(r.id, finish), true);
  assert.deepEqual(await store.claim(envelope(r), 'w2', T0 + 40), {
    ok: false,
    reason: 'terminal',
  });
});

test('claim never takes over a dead holder task (the reaper does), and writes a missing record', async (t) => {
  const { store, monitor } = await setup(t);
  const r = record({ dedupKey: null });
  assert.equal((await store.claim(envelope(r), 'gone', T0 + 1)).ok, true);
  assert.equal((await store.get(r.id))?.status, 'processing');
  assert.deepEqual(await store.claim(envelope(r), 'w2', T0 + 2), { ok: false, reason: 'held' });
  assert.equal((await monitor.requeue(r.id, 'gone', T0 + 3, 3)).ok, true);
  const taken = await store.claim(envelope(r), 'w2', T0 + 4);
  assert.deepEqual(taken, {
    ok: true,
    record: { ...r, status: 'processing', worker: 'w2', startedAt: T0 + 4, losses: 1 },
  });
});

test('finish is fenced, writes the outcome, releases the dedup key and fills the cache', async (t) => {
  const { store, admin, prefix, registry } = await setup(t, { retentionMs: 120_000 });
  await registry.register(worker('w1'), 10_000);
  const r = record();
  await createOne(store, r, DEDUP);
  await store.claim(envelope(r), 'w1', T0 + 100);
  const result = { list: [], map: {}, sum: 0.1 + 0.2, big: 2 ** 53 - 1, tricky: 'a,"result":b' };
  const step = {
    workerId: 'w1',
    attempt: 1,
    now: T0 + 350,
    outcome: success(result),
    cacheTtlMs: 30_000,
  };
  assert.equal(await store.finish(r.id, { ...step, workerId: 'w2' }), false);
  assert.equal(await store.finish(r.id, { ...step, attempt: 2 }), false);
  assert.equal(await store.finish(r.id, step), true);
  assert.equal(await store.finish(r.id, { ...step, now: T0 + 351 }), false);
  assert.equal(await store.finish('no-such-task', step), false);

  const done = await store.get(r.id);
  assert.deepEqual(done, {
    ...r,
    status: 'success',
    worker: 'w1',
    startedAt: T0 + 100,
    finishedAt: T0 + 350,
    durationMs: 250,
    result,
  });
  const recordTtl = await admin.pttl(`${prefix}task:${r.id}`);
  assert.ok(recordTtl > 0 && recordTtl <= 120_000, `record PTTL ${recordTtl}`);
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);
  const cacheTtl = await admin.pttl(`${prefix}cache:add:abc`);
  assert.ok(cacheTtl > 0 && cacheTtl <= 30_000, `cache PTTL ${cacheTtl}`);
  const entry = JSON.parse((await admin.get(`${prefix}cache:add:abc`))!);
  assert.deepEqual(entry, { id: r.id, finishedAt: T0 + 350, result });

  // Answered from the cache: the exact result, no run, no dedup key.
  const again = record({ submittedAt: T0 + 1000 });
  const outcome = await createOne(store, again, DEDUP);
  assert.deepEqual(outcome, {
    kind: 'cached',
    record: {
      ...again,
      status: 'success',
      cached: true,
      result,
      startedAt: T0 + 1000,
      finishedAt: T0 + 1000,
      durationMs: 0,
    },
  });
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);
  const cachedTtl = await admin.pttl(`${prefix}task:${again.id}`);
  assert.ok(cachedTtl > 0 && cachedTtl <= 120_000, `cached record PTTL ${cachedTtl}`);

  // A fresh run is not answered from the cache, but a worker meeting it learns the answer.
  const fresh = record();
  assert.deepEqual(
    await store.createMany([fresh], { dedup: true, useCache: false }).then(([o]) => o!),
    {
      kind: 'created',
    },
  );
  assert.equal((await store.get(fresh.id))?.useCache, false);
  const claimFresh = await store.claim(envelope(fresh), 'w1', T0 + 2000);
  assert.equal(claimFresh.ok && 'cachedResult' in claimFresh, false);
  assert.deepEqual(claimFresh.ok && claimFresh.record, await store.get(fresh.id));
  assert.equal(claimFresh.ok && claimFresh.record.useCache, false);
  const cachedTask = record({ dedupKey: 'add:abc' });
  const claimCached = await store.claim(envelope(cachedTask), 'w1', T0 + 2000);
  assert.ok(claimCached.ok);
  assert.deepEqual(claimCached.cachedResult, result);
});

test('finish of a failure stores the error; a cached outcome writes no cache entry', async (t) => {
  const { store, admin, prefix } = await setup(t);
  const failing = record({ dedupKey: 'k:fail' });
  await createOne(store, failing, DEDUP);
  await store.claim(envelope(failing), 'w1', T0);
  const error = { message: 'boom', name: 'Error', stack: 'Error: boom\n    at x' };
  const failed = { workerId: 'w1', attempt: 1, now: T0 + 5, cacheTtlMs: 30_000 };
  assert.equal(
    await store.finish(failing.id, { ...failed, outcome: { status: 'failed', error } }),
    true,
  );
  const stored = await store.get(failing.id);
  assert.equal(stored?.status, 'failed');
  assert.deepEqual(stored?.error, error);
  assert.equal(stored?.result, null);
  assert.equal(await admin.exists(`${prefix}cache:k:fail`, `${prefix}dedup:k:fail`), 0);

  const fromCache = record({ dedupKey: 'k:cached' });
  await store.claim(envelope(fromCache), 'w1', T0);
  const outcome = { status: 'success' as const, result: 7, cached: true };
  assert.equal(await store.finish(fromCache.id, { ...failed, outcome }), true);
  assert.equal((await store.get(fromCache.id))?.cached, true);
  assert.equal(await admin.exists(`${prefix}cache:k:cached`), 0);
});

test('discard removes the record and only its own dedup key', async (t) => {
  const { store, admin, prefix } = await setup(t);
  const r = record();
  await createOne(store, r, DEDUP);
  await store.discard(r.id);
  assert.equal(await store.get(r.id), null);
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);

  const other = record();
  await createOne(store, other, DEDUP);
  const loser = record();
  await store.createMany([loser], { dedup: false, useCache: false }).then(([o]) => o!);
  await store.discard(loser.id);
  assert.equal(await admin.get(`${prefix}dedup:add:abc`), other.id);
  await store.discard('never-there');
});

test('waitFor resolves on finish, for thousands of waiters on one subscription', async (t) => {
  const { store } = await setup(t);
  const tasks = Array.from({ length: 200 }, () => record({ dedupKey: null }));
  for (const r of tasks) await createOne(store, r, DEDUP);
  const waits = tasks.flatMap((r) => Array.from({ length: 10 }, () => store.waitFor(r.id, 10_000)));
  await sleep(50);
  await Promise.all(
    tasks.map(async (r, i) => {
      await store.claim(envelope(r), 'w1', T0);
      const step = { workerId: 'w1', attempt: 1, now: T0 + 1, outcome: success(i), cacheTtlMs: 0 };
      assert.equal(await store.finish(r.id, step), true);
    }),
  );
  const done = await Promise.all(waits);
  assert.equal(done.length, 2000);
  done.forEach((d, n) => {
    assert.equal(d.status, 'success');
    assert.equal(d.result, Math.floor(n / 10));
  });
  // Already terminal: resolves straight from the read.
  assert.equal((await store.waitFor(tasks[0]!.id, 1000)).status, 'success');
});

test('waitFor times out with WAIT_TIMEOUT and rejects an unknown id with TASK_NOT_FOUND', async (t) => {
  const { store } = await setup(t);
  const r = record();
  await createOne(store, r, DEDUP);
  const started = Date.now();
  await assert.rejects(store.waitFor(r.id, 200), (e) => isYadtqError(e, 'WAIT_TIMEOUT'));
  assert.ok(Date.now() - started < 2000);
  await assert.rejects(store.waitFor('no-such-task', 5000), (e) =>
    isYadtqError(e, 'TASK_NOT_FOUND'),
  );
});

test('worker ids are unique while alive; workers() lists alive and dead, newest first', async (t) => {
  const { admin, prefix, registry } = await setup(t, { retentionMs: 60_000 });
  await registry.register(worker('w1', Date.now() - 10), 5000);
  await assert.rejects(registry.register(worker('w1'), 5000), (e) => {
    assert.ok(isYadtqError(e, 'WORKER_ID_IN_USE'));
    assert.match(e.message, /worker id "w1" is in use: its heartbeat is alive/);
    return true;
  });
  const heartbeatTtl = await admin.pttl(`${prefix}worker:w1`);
  assert.ok(heartbeatTtl > 0 && heartbeatTtl <= 5000, `heartbeat PTTL ${heartbeatTtl}`);
  // One clock for the order (newest first): w2 beats last, 'short' 5 ms before it.
  const now = Date.now();
  await registry.register(worker('w2', now), 5000);
  await registry.heartbeat({ ...worker('w2', now), processed: 5 }, 5000);
  await registry.heartbeat(worker('short', now - 5), 1);
  await admin.hset(`${prefix}workers`, 'ancient', JSON.stringify(worker('ancient', 1000)));
  await sleep(20);

  const listed = await registry.list();
  assert.deepEqual(
    listed.map((w) => [w.id, w.alive]),
    [
      ['w2', true],
      ['short', false],
      ['w1', true],
    ],
  );
  assert.equal(listed[0]?.processed, 5);
  assert.equal(await admin.hexists(`${prefix}workers`, 'ancient'), 0);

  await registry.deregister('w1');
  const w1 = (await registry.list()).find((w) => w.id === 'w1');
  assert.equal(w1?.alive, false);
  await registry.register(worker('w1'), 5000);
});

test('an unreachable Redis fails the first command with STORE_UNAVAILABLE, in bounded time', async () => {
  const stores = new RedisStores({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1000 });
  const { store } = stores;
  const started = Date.now();
  const check = (e: unknown) => {
    assert.ok(isYadtqError(e, 'STORE_UNAVAILABLE'), String(e));
    assert.equal(e.retriable, true);
    assert.match(e.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    return true;
  };
  await assert.rejects(store.get('x'), check);
  await assert.rejects(createOne(store, record(), DEDUP), check);
  await assert.rejects(store.waitFor('x', 60_000), check);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  await stores.close();
  await assert.rejects(store.get('x'), (e) => isYadtqError(e, 'CLOSED'));
});

test('bad options throw INVALID_OPTION naming the option', () => {
  // ioredis' own options type (yadtq/drivers' RedisDriverOptions) is accepted as it is.
  const withKeyPrefix: RedisOptions = { keyPrefix: 'x:' };
  const bad: Array<[RedisStoreOptions, string]> = [
    [{ prefix: '' }, 'prefix'],
    [{ retentionMs: -1 }, 'retentionMs'],
    [{ pendingTtlMs: 1.5 }, 'pendingTtlMs'],
    [{ connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [{ url: 'http://localhost:6379' }, 'url'],
    [{ redis: withKeyPrefix }, 'redis.keyPrefix'],
    [{ client: {} as never }, 'client'],
  ];
  for (const [options, name] of bad) {
    assert.throws(
      () => new RedisStores(options),
      (e) => isYadtqError(e, 'INVALID_OPTION') && e.message.includes(`"${name}"`),
      name,
    );
  }
});

test('a given client is used and left open; dropped connections recover by themselves', async (t) => {
  const connectionName = `yadtq-test-${randomUUID().slice(0, 8)}`;
  const client = new Redis(url, { connectionName });
  const { admin, prefix } = await setup(t);
  const stores = new RedisStores({ client, prefix });
  const { store } = stores;
  t.after(() => stores.close().then(() => client.quit()));

  const r = record({ dedupKey: null });
  await createOne(store, r, DEDUP);
  await store.claim(envelope(r), 'w1', T0);
  const waiting = store.waitFor(r.id, 10_000);
  await sleep(100);
  // Both the command and the subscriber connection carry the name: drop them all.
  const list = await admin.client('LIST');
  const ids = String(list)
    .split('\n')
    .filter((line) => line.includes(` name=${connectionName} `))
    .map((line) => /id=(\d+)/.exec(line)![1]!);
  assert.equal(ids.length, 2);
  for (const id of ids) await admin.client('KILL', 'ID', id);

  const step = { workerId: 'w1', attempt: 1, now: T0 + 1, outcome: success('ok'), cacheTtlMs: 0 };
  assert.equal(await store.finish(r.id, step), true);
  assert.equal((await waiting).result, 'ok');
  await stores.close();
  assert.equal(await client.ping(), 'PONG');
});

const CANCELLED = { name: 'YadtqError', code: 'TASK_CANCELLED', message: 'cancelled' };

/**
 * Collects what is published on `channel`, through a connection of its own: the task ids
 * of its messages (an announcement of an ended task may carry the record after the id).
 */
async function listen(t: test.TestContext, channel: string, raw = false): Promise<string[]> {
  const heard: string[] = [];
  const subscriber = new Redis(url);
  t.after(() => subscriber.quit());
  subscriber.on('message', (_channel: string, message: string) =>
    heard.push(raw ? message : message.split('\n')[0]!),
  );
  await subscriber.subscribe(channel);
  return heard;
}

/** Claims the record's attempt for `workerId`, asserting that it worked. */

async function ttlWithin(admin: Redis, key: string, max: number) {
  const ttl = await admin.pttl(key);
  assert.ok(ttl > max / 2 && ttl <= max, `${key} PTTL ${ttl}, expected up to ${max}`);
}

test('the new fields round-trip; an older hash without them decodes as null, 0, false', async (t) => {
  const { store, admin, prefix } = await setup(t);
  const r = record({ runAt: T0 + 500, losses: 2, cancelRequested: true });
  await createOne(store, r, DEDUP);
  assert.deepEqual(await store.get(r.id), r);
  assert.equal(await admin.zscore(`${prefix}scheduled`, r.id), String(T0 + 500));
  const old = record();
  const { runAt: _r, losses: _l, cancelRequested: _c, ...fields } = old;
  await admin.hset(`${prefix}task:${old.id}`, {
    ...fields,
    args: JSON.stringify(old.args),
    worker: '',
    startedAt: '',
    finishedAt: '',
    durationMs: '',
    result: '',
    error: '',
    cached: '0',
    useCache: '1',
  });
  assert.deepEqual(await store.get(old.id), old);
  await store.discard(r.id);
  assert.equal(await admin.zscore(`${prefix}scheduled`, r.id), null);
});

test('finish: a failure with retryAt waits as retrying, in flight; without attempts left it fails', async (t) => {
  const { store, admin, prefix, monitor } = await setup(t, { pendingTtlMs: 60_000 });
  const events = await listen(t, `${prefix}events`);
  const r = record({ maxAttempts: 2 });
  await createOne(store, r, DEDUP);
  await claimed(store, r, 'w1', T0 + 10);
  const step = { workerId: 'w1', attempt: 1, now: T0 + 30, cacheTtlMs: 0 };
  const retry = { status: 'failed' as const, error: boom, retryAt: T0 + 1030 };
  assert.equal(await store.finish(r.id, { ...step, outcome: retry }), true);
  assert.deepEqual(await store.get(r.id), {
    ...r,
    status: 'retrying',
    attempt: 2,
    worker: 'w1',
    startedAt: T0 + 10,
    finishedAt: T0 + 30,
    durationMs: 20,
    error: boom,
    runAt: T0 + 1030,
  });
  assert.equal(await admin.zscore(`${prefix}scheduled`, r.id), String(T0 + 1030));
  assert.equal(await admin.get(`${prefix}dedup:add:abc`), r.id);
  // Kept until the retry is due (1 s after the finish) plus the pending TTL.
  await ttlWithin(admin, `${prefix}task:${r.id}`, 61_000);
  assert.deepEqual(await monitor.heldBy('w1'), []);

  await claimed(store, { ...r, attempt: 2 }, 'w1', T0 + 1100);
  assert.equal(await admin.zscore(`${prefix}scheduled`, r.id), null);
  const last = { ...step, attempt: 2, now: T0 + 1200, outcome: retry };
  assert.equal(await store.finish(r.id, last), true);
  const failed = await store.get(r.id);
  assert.equal(failed?.status, 'failed');
  assert.equal(failed?.attempt, 2);
  assert.equal(failed?.runAt, null);
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);
  await sleep(50);
  assert.deepEqual(events, [r.id]);
});

test('finish of a cancelled outcome ends cancelled with the TASK_CANCELLED error', async (t) => {
  const { store } = await setup(t);
  const r = record({ dedupKey: null });
  await claimed(store, r, 'w1', T0);
  const step = { workerId: 'w1', attempt: 1, now: T0 + 7, cacheTtlMs: 0 };
  assert.equal(await store.finish(r.id, { ...step, outcome: { status: 'cancelled' } }), true);
  const done = await store.get(r.id);
  assert.equal(done?.status, 'cancelled');
  assert.deepEqual(done?.error, CANCELLED);
  assert.equal(done?.durationMs, 7);
});

test('cancel: waiting ends cancelled, running is marked and its holder told, ended is refused', async (t) => {
  const { store, admin, prefix } = await setup(t, { retentionMs: 90_000 });
  const events = await listen(t, `${prefix}events`);
  const heard: string[] = [];
  const stop = await store.onCancel((id) => heard.push(id));
  await store.onCancel(() => {
    throw new Error('a failing listener does not stop the others');
  });

  const waiting = record({ runAt: T0 + 100 });
  await createOne(store, waiting, DEDUP);
  const cancelled = await store.cancel(waiting.id, T0 + 50);
  const ended = { ...waiting, status: 'cancelled' as const, finishedAt: T0 + 50, error: CANCELLED };
  assert.deepEqual(cancelled, { ok: true, record: { ...ended, runAt: null } });
  assert.deepEqual(await store.waitFor(waiting.id, 1000), { ...ended, runAt: null });
  assert.equal(await admin.zscore(`${prefix}scheduled`, waiting.id), null);
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);
  await ttlWithin(admin, `${prefix}task:${waiting.id}`, 90_000);
  assert.deepEqual(await store.cancel(waiting.id, T0 + 60), { ok: false, reason: 'terminal' });
  assert.deepEqual(await store.cancel('no-such-task', T0), { ok: false, reason: 'missing' });

  const running = record({ dedupKey: null });
  await claimed(store, running, 'w1', T0);
  const marked = await store.cancel(running.id, T0 + 5);
  const processing = { ...running, status: 'processing' as const, worker: 'w1', startedAt: T0 };
  assert.deepEqual(marked, { ok: true, record: { ...processing, cancelRequested: true } });
  await sleep(50);
  assert.deepEqual(heard, [running.id]);
  assert.deepEqual(events, [waiting.id]);

  await stop();
  await store.cancel(running.id, T0 + 6);
  await sleep(50);
  assert.deepEqual(heard, [running.id]);
  const step = { workerId: 'w1', attempt: 1, now: T0 + 9, cacheTtlMs: 0 };
  assert.equal(await store.finish(running.id, { ...step, outcome: { status: 'cancelled' } }), true);
});

test('resubmit gives a failed or cancelled task one more attempt, refuses the others', async (t) => {
  const { store, admin, prefix } = await setup(t);
  const r = record({ maxAttempts: 1 });
  await createOne(store, r, DEDUP);
  await claimed(store, r, 'w1', T0);
  const step = { workerId: 'w1', attempt: 1, now: T0 + 5, cacheTtlMs: 0 };
  await store.finish(r.id, { ...step, outcome: { status: 'failed', error: boom } });
  const again = await store.resubmit(r.id, T0 + 10);
  assert.deepEqual(again, {
    ok: true,
    record: { ...r, attempt: 2, maxAttempts: 2, worker: 'w1' },
  });
  assert.ok((await admin.pttl(`${prefix}task:${r.id}`)) > 1_000_000);
  assert.deepEqual(await store.resubmit(r.id, T0), { ok: false, reason: 'not-retryable' });
  assert.deepEqual(await store.resubmit('no-such-task', T0), { ok: false, reason: 'missing' });
  await store.cancel(r.id, T0 + 20);
  const third = await store.resubmit(r.id, T0 + 30);
  assert.ok(third.ok);
  assert.equal(third.record.attempt, 3);
  assert.equal(third.record.error, null);
});

test('requeue: a dead holder loses the task to the queue, then to WORKER_LOST; cancel wins', async (t) => {
  const { store, admin, prefix, monitor } = await setup(t);
  const events = await listen(t, `${prefix}events`);
  const r = record();
  await createOne(store, r, DEDUP);
  await claimed(store, r, 'dead1', T0);
  assert.deepEqual(await monitor.requeue(r.id, 'other', T0 + 1, 2), {
    ok: false,
    reason: 'not-holder',
  });
  const queued = await monitor.requeue(r.id, 'dead1', T0 + 1, 2);
  assert.deepEqual(queued, { ok: true, record: { ...r, worker: 'dead1', losses: 1 } });
  assert.deepEqual(await monitor.heldBy('dead1'), []);
  assert.deepEqual(await monitor.requeue(r.id, 'dead1', T0 + 2, 2), {
    ok: false,
    reason: 'not-holder',
  });

  await claimed(store, r, 'dead"2', T0 + 10);
  const lost = await monitor.requeue(r.id, 'dead"2', T0 + 40, 2);
  const failed = { ...r, status: 'failed' as const, worker: 'dead"2', startedAt: T0 + 10 };
  const error = workerLostError(2, 'dead"2');
  const ended = { ...failed, finishedAt: T0 + 40, durationMs: 30, error, losses: 2 };
  assert.deepEqual(lost, { ok: true, record: ended });
  assert.equal(await admin.exists(`${prefix}dedup:add:abc`), 0);
  assert.deepEqual(await monitor.requeue(r.id, 'dead"2', T0 + 50, 2), {
    ok: false,
    reason: 'terminal',
  });
  assert.deepEqual(await monitor.requeue('gone', 'x', T0, 2), { ok: false, reason: 'missing' });

  const c = record({ dedupKey: null });
  await claimed(store, c, 'dead3', T0);
  await store.cancel(c.id, T0 + 1);
  const cancelled = await monitor.requeue(c.id, 'dead3', T0 + 2, 5);
  assert.ok(cancelled.ok);
  assert.equal(cancelled.record.status, 'cancelled');
  assert.deepEqual(cancelled.record.error, CANCELLED);
  assert.equal(cancelled.record.losses, 1);
  await sleep(50);
  assert.deepEqual(events, [r.id, c.id]);
});

test('held sets follow claim, requeue and a new claim, finish', async (t) => {
  const { store, admin, prefix, monitor } = await setup(t, { pendingTtlMs: 60_000 });
  const [a, b, c] = [record({ dedupKey: null }), record({ dedupKey: null }), record()];
  for (const r of [a, b, c]) await claimed(store, r, 'w1', T0);
  assert.deepEqual((await monitor.heldBy('w1')).sort(), [a.id, b.id, c.id].sort());
  await ttlWithin(admin, `${prefix}held:w1`, 60_000);
  await monitor.requeue(a.id, 'w1', T0 + 1, 3);
  await claimed(store, a, 'w2', T0 + 1);
  assert.deepEqual((await monitor.heldBy('w1')).sort(), [b.id, c.id].sort());
  assert.deepEqual(await monitor.heldBy('w2'), [a.id]);
  const step = { workerId: 'w1', attempt: 1, now: T0 + 2, outcome: success(1), cacheTtlMs: 0 };
  assert.equal(await store.finish(a.id, step), false);
  assert.equal(await store.finish(b.id, step), true);
  assert.deepEqual(await monitor.heldBy('w1'), [c.id]);
  await monitor.requeue(c.id, 'w1', T0 + 3, 3);
  assert.deepEqual(await monitor.heldBy('w1'), []);
  assert.equal(await admin.exists(`${prefix}held:w1`), 0);
  assert.deepEqual(await monitor.heldBy('nobody'), []);
});

test('dueTasks: earliest first, up to the limit, stale entries dropped; promote', async (t) => {
  const { store, admin, prefix, monitor } = await setup(t);
  const scheduled = `${prefix}scheduled`;
  const tasks = [300, 100, 200, 400, 5000].map((at) => record({ dedupKey: null, runAt: T0 + at }));
  for (const r of tasks) await createOne(store, r, DEDUP);
  const [t300, t100, t200, t400] = tasks as [TaskRecord, TaskRecord, TaskRecord, TaskRecord];
  await store.cancel(t100.id, T0);
  await admin.zadd(scheduled, T0 + 150, 'expired-task');
  await admin.del(`${prefix}task:${t200.id}`);
  assert.deepEqual(await monitor.dueTasks(T0 + 1000, 2), [t300, t400]);
  assert.deepEqual(await admin.zrange(scheduled, 0, -1), [t300.id, t400.id, tasks[4]!.id]);
  assert.deepEqual(await monitor.dueTasks(T0 + 300, 10), [t300]);
  assert.deepEqual(await monitor.dueTasks(T0, 10), []);
  assert.deepEqual(await monitor.dueTasks(T0 + 1000, 0), []);

  assert.deepEqual(await monitor.promote(t300.id, 2, T0 + 1000), {
    ok: false,
    reason: 'stale-attempt',
  });
  assert.equal(await admin.zscore(scheduled, t300.id), String(T0 + 300));
  assert.deepEqual(await monitor.promote(t300.id, 1, T0 + 1000), {
    ok: true,
    record: { ...t300, runAt: null },
  });
  assert.equal(await admin.zscore(scheduled, t300.id), null);
  await claimed(store, t400, 'w1', T0 + 1000);
  await admin.zadd(scheduled, T0 + 400, t400.id);
  assert.deepEqual(await monitor.promote(t400.id, 1, T0), { ok: false, reason: 'not-waiting' });
  assert.equal(await admin.zscore(scheduled, t400.id), null);
  assert.deepEqual(await monitor.promote('gone', 1, T0), { ok: false, reason: 'missing' });
});

test('lead: one candidate at a time, renewed by its holder, taken over after the TTL', async (t) => {
  const { prefix, monitor } = await setup(t);
  const others = new RedisStores({ url, prefix });
  const other = others.monitorStore;
  t.after(() => others.close());
  assert.equal(await monitor.lead('a', 200), true);
  assert.equal(await other.lead('b', 200), false);
  await sleep(120);
  assert.equal(await monitor.lead('a', 200), true);
  await sleep(120);
  assert.equal(await other.lead('b', 200), false);
  await other.resign('b');
  assert.equal(await monitor.lead('a', 200), true);
  await sleep(300);
  assert.equal(await other.lead('b', 10_000), true);
  assert.equal(await monitor.lead('a', 200), false);
  await monitor.resign('a');
  assert.equal(await monitor.lead('a', 200), false);
  await other.resign('b');
  assert.equal(await monitor.lead('a', 200), true);
});

test('a record keeps only the fields that hold a value, and decodes as the full record', async (t) => {
  const { store, admin, prefix, monitor } = await setup(t);
  const fieldsOf = async (id: string) => (await admin.hkeys(`${prefix}task:${id}`)).sort();
  const r = record({ dedupKey: null });
  assert.deepEqual(await createOne(store, r, DEDUP), { kind: 'created' });
  const stored = ['args', 'attempt', 'id', 'maxAttempts', 'name', 'status', 'submittedAt'];
  assert.deepEqual(await fieldsOf(r.id), [...stored, 'timeoutMs']);
  assert.deepEqual(await store.get(r.id), r);

  // A retry's run fields go at the next claim; the success clears the earlier error.
  await claimed(store, r, 'w1', T0 + 10);
  const retry = { status: 'failed' as const, error: boom, retryAt: T0 + 1000 };
  const step = { workerId: 'w1', attempt: 1, now: T0 + 20, cacheTtlMs: 0 };
  assert.equal(await store.finish(r.id, { ...step, outcome: retry }), true);
  await monitor.promote(r.id, 2, T0 + 1000);
  const second = await store.claim(envelope(r, 2), 'w2', T0 + 1100);
  assert.ok(second.ok);
  assert.deepEqual(second.record, {
    ...r,
    status: 'processing',
    attempt: 2,
    worker: 'w2',
    startedAt: T0 + 1100,
    error: boom,
  });
  const done = { ...step, workerId: 'w2', attempt: 2, now: T0 + 1150, outcome: success(null) };
  assert.equal(await store.finish(r.id, done), true);
  assert.deepEqual(await store.get(r.id), {
    ...r,
    status: 'success',
    attempt: 2,
    worker: 'w2',
    startedAt: T0 + 1100,
    finishedAt: T0 + 1150,
    durationMs: 50,
  });
  assert.equal((await fieldsOf(r.id)).includes('error'), false);

  // A record without a dedup key (no such field) is still found and discarded.
  const lone = record({ dedupKey: null });
  await store.createMany([lone], { dedup: false, useCache: false }).then(([o]) => o!);
  await store.discard(lone.id);
  assert.equal(await admin.exists(`${prefix}task:${lone.id}`), 0);

  // An earlier hash under a new record's id does not leave its fields behind.
  const reused = record();
  await admin.hset(`${prefix}task:${reused.id}`, { id: reused.id, losses: '3', worker: 'old' });
  await store.createMany([reused], { dedup: false, useCache: true }).then(([o]) => o!);
  assert.deepEqual(await store.get(reused.id), reused);
});

test('an ended task is announced with its record while anyone listens: a waiter reads nothing', async (t) => {
  const { store, admin, prefix } = await setup(t);
  const channel = `${prefix}events`;
  const heard = await listen(t, channel, true);
  const finish = (r: TaskRecord, now: number) =>
    store.finish(r.id, { workerId: 'w1', attempt: 1, now, outcome: success(now), cacheTtlMs: 0 });
  const until = async (check: () => boolean) => {
    while (!check()) await sleep(5);
  };

  const announced = record();
  await createOne(store, announced, DEDUP);
  await claimed(store, announced, 'w1', T0);
  await finish(announced, T0 + 5);
  await until(() => heard.length === 1);
  const [id, json] = heard[0]!.split('\n');
  assert.equal(id, announced.id);
  assert.deepEqual(decodeRecordReply(JSON.parse(json!)), await store.get(announced.id));

  // A waiter of its own: one read when it starts, none once the announcement comes.
  const reads: string[] = [];
  const events = new TaskEvents({
    channel,
    cancelChannel: `${prefix}cancel`,
    turnChannel: `${prefix}turn`,
    connect: () => new Redis(url),
    call: (_connection, command) => command(),
    read: (readId) => {
      reads.push(readId);
      return store.get(readId);
    },
  });
  t.after(() => events.close(new Error('closed')));
  const waited = record();
  await createOne(store, waited, DEDUP);
  await claimed(store, waited, 'w1', T0);
  const outcome = events.waitFor(waited.id, 10_000);
  // Reads at the start: after subscribing, and once the new connection is ready.
  await until(() => reads.length > 0);
  await sleep(50);
  const startReads = reads.length;
  await finish(waited, T0 + 7);
  assert.deepEqual(await outcome, await store.get(waited.id));
  assert.equal(reads.length, startReads);

  // An announcement of the id alone (or one that cannot be decoded) is followed by a read.
  for (const tail of ['', '\nnot json', '\n["id","another"]']) {
    const r = record();
    await createOne(store, r, DEDUP);
    await claimed(store, r, 'w1', T0);
    reads.length = 0;
    const pending = events.waitFor(r.id, 10_000);
    await until(() => reads.length > 0);
    await sleep(20);
    await admin.hset(`${prefix}task:${r.id}`, 'status', 'success');
    await admin.publish(channel, `${r.id}${tail}`);
    assert.equal((await pending).status, 'success');
    assert.deepEqual(reads, [r.id, r.id], `message with tail ${JSON.stringify(tail)}`);
  }
});

test('the Redis store and the memory reference agree, step by step', async (t) => {
  const { stores } = await setup(t);
  const ids = [randomUUID(), randomUUID(), randomUUID()];
  const [r1, r2, r3] = [
    record({ id: ids[0]! }),
    record({ id: ids[1]!, dedupKey: 'k2', runAt: T0 + 500 }),
    record({ id: ids[2]!, dedupKey: null }),
  ];
  const run = async ({ store: s, monitorStore: m }: Stores) => {
    const out: unknown[] = [];
    const step = (workerId: string, attempt: number, now: number) => ({
      workerId,
      attempt,
      now,
      cacheTtlMs: 0,
    });
    for (const r of [r1, r2, r3]) out.push(await createOne(s, r, DEDUP));
    out.push(await s.claim(envelope(r1), 'w1', T0 + 10));
    const retry = { status: 'failed' as const, error: boom, retryAt: T0 + 1000 };
    out.push(await s.finish(r1.id, { ...step('w1', 1, T0 + 20), outcome: retry }));
    out.push(await m.dueTasks(T0 + 2000, 10));
    out.push(await m.promote(r1.id, 1, T0 + 2000), await m.promote(r1.id, 2, T0 + 2000));
    out.push(await s.cancel(r2.id, T0 + 30), await s.cancel(r2.id, T0 + 31));
    out.push(await s.resubmit(r2.id, T0 + 40), await s.resubmit(r2.id, T0 + 41));
    out.push(await s.claim(envelope(r3), 'w1', T0 + 50), await s.cancel(r3.id, T0 + 51));
    out.push(await m.requeue(r3.id, 'w2', T0 + 52, 3), await m.requeue(r3.id, 'w1', T0 + 53, 3));
    out.push(await s.claim(envelope(r1, 2), 'w1', T0 + 60));
    out.push(await m.requeue(r1.id, 'w1', T0 + 61, 2));
    out.push(await s.claim(envelope(r1, 2), 'w2', T0 + 62));
    out.push(await m.requeue(r1.id, 'w2', T0 + 63, 2));
    out.push(await s.resubmit(r1.id, T0 + 70), await m.dueTasks(T0 + 5000, 10));
    out.push(await m.heldBy('w1'), await m.heldBy('w2'));
    for (const r of [r1, r2, r3]) out.push(await s.get(r.id));
    return out;
  };
  const memory = memoryStores();
  t.after(() => memory.close());
  assert.deepEqual(await run(stores), await run(memory));
});
