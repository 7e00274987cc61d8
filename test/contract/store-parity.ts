// Store behaviour beyond single transitions, the same for every store (memory, Redis):
// leases of recovered tasks, finishes sent again, createMany's order, requeue's heartbeat
// check. Run by the store conformance runners of each store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Stores } from '../../src/core/store.ts';
import {
  boom,
  claimed,
  createOne,
  DEDUP,
  record,
  success,
  suiteStores,
  T0,
  worker,
} from './store-fixtures.ts';

/** The parity tests against the stores `open` makes (once, closed after the suite). */
export function runStoreParity(label: string, open: () => Promise<Stores>): void {
  describe(`store parity: ${label}`, () => {
    const stores = suiteStores(open);

    test('takeRecovered: a requeued task is handed out once per lease, until claimed or ended', async () => {
      const { store: s, monitorStore } = await stores();
      const [a, b, c] = [1, 2, 3].map(() => record({ dedupKey: null }));
      for (const r of [a!, b!, c!]) await claimed(s, r, 'dead', T0);
      assert.deepEqual(
        await monitorStore.takeRecovered(T0 + 1, 10, 1000),
        [],
        'nothing before a requeue',
      );
      await monitorStore.requeue(b!.id, 'dead', T0 + 1, 3);
      await monitorStore.requeue(a!.id, 'dead', T0 + 2, 3);
      await monitorStore.requeue(c!.id, 'dead', T0 + 3, 3);
      await s.cancel(c!.id, T0 + 4);

      const first = await monitorStore.takeRecovered(T0 + 5, 1, 1000);
      assert.deepEqual(
        first.map((r) => [r.id, r.status, r.losses]),
        [[b!.id, 'queued', 1]],
        'longest waiting first, up to the limit',
      );
      const second = await monitorStore.takeRecovered(T0 + 6, 10, 1000);
      assert.deepEqual(
        second.map((r) => r.id),
        [a!.id],
        'a leased task is not handed out again; an ended one is dropped',
      );
      assert.deepEqual(await monitorStore.takeRecovered(T0 + 7, 10, 1000), []);
      await claimed(s, a!, 'alive', T0 + 8);
      const afterLease = await monitorStore.takeRecovered(T0 + 1006, 10, 1000);
      assert.deepEqual(
        afterLease.map((r) => r.id),
        [b!.id],
        'once its lease ran out an unclaimed task is handed out again; a claimed one is not',
      );
      await claimed(s, b!, 'alive', T0 + 1007);
      assert.deepEqual(await monitorStore.takeRecovered(T0 + 9000, 10, 1000), []);
    });

    test('prioritize offers the queued tasks ahead of the log at once, and tells the turn channel', async () => {
      const { store: s, monitorStore } = await stores();
      const [queued, running] = [1, 2].map(() => record({ dedupKey: null }));
      for (const r of [queued!, running!]) await createOne(s, r, DEDUP);
      await claimed(s, running!, 'w1', T0);
      const heard: string[] = [];
      const stop = await s.onTurn((id) => heard.push(id));
      try {
        await s.prioritize([queued!.id, running!.id, 'no-such-task']);
        const deadline = Date.now() + 5000;
        while (!heard.includes(queued!.id) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 10));
      } finally {
        await stop();
      }
      assert.deepEqual(heard, [queued!.id], 'only the queued one');
      const taken = await monitorStore.takeRecovered(T0 + 1, 100, 1000);
      assert.deepEqual(
        taken.filter((r) => r.id === queued!.id || r.id === running!.id).map((r) => r.id),
        [queued!.id],
      );
    });

    test('waitingLow lists the low-priority tasks not produced yet, oldest first', async () => {
      const { store: s, monitorStore } = await stores();
      const low = [1, 2, 3].map((i) =>
        record({ dedupKey: null, priority: 'low', runAt: T0 + 60_000, submittedAt: T0 + i }),
      );
      for (const r of low) await createOne(s, r, DEDUP);
      const normal = record({ dedupKey: null, runAt: T0 + 60_000 });
      await createOne(s, normal, DEDUP);
      const mine = async () =>
        (await monitorStore.waitingLow(100))
          .filter((r) => low.some((l) => l.id === r.id))
          .map((r) => r.id);
      assert.deepEqual(
        await mine(),
        low.map((r) => r.id),
      );
      assert.ok((await monitorStore.promote(low[0]!.id, 1, T0 + 10)).ok, 'produced early');
      assert.ok((await s.cancel(low[2]!.id, T0 + 11)).ok);
      assert.deepEqual(await mine(), [low[1]!.id], 'the produced and the cancelled are gone');
      const listed = await monitorStore.waitingLow(100);
      assert.ok(!listed.some((r) => r.id === normal.id), 'a delayed normal task is not low');
      assert.equal(listed.find((r) => r.id === low[1]!.id)?.priority, 'low');
    });

    test('a finish sent again after it was written answers true again; any other late finish is refused', async () => {
      const { store: s, monitorStore } = await stores();
      const r = record({ dedupKey: null, maxAttempts: 2 });
      await claimed(s, r, 'w1', T0);
      const retry = { status: 'failed' as const, error: boom, retryAt: T0 + 500 };
      const failedOnce = {
        workerId: 'w1',
        attempt: 1,
        now: T0 + 10,
        outcome: retry,
        cacheTtlMs: 0,
      };
      assert.equal(await s.finish(r.id, failedOnce), true);
      assert.equal(await s.finish(r.id, failedOnce), true, 'the same retrying finish again');
      assert.equal((await s.get(r.id))?.attempt, 2, 'written once: one attempt more, not two');
      assert.equal(await s.finish(r.id, { ...failedOnce, now: T0 + 11 }), false, 'another time');

      await monitorStore.promote(r.id, 2, T0 + 500);
      await claimed(s, { ...r, attempt: 2 }, 'w2', T0 + 600);
      const done = {
        workerId: 'w2',
        attempt: 2,
        now: T0 + 700,
        outcome: { status: 'success' as const, result: 7 },
        cacheTtlMs: 0,
      };
      assert.equal(await s.finish(r.id, done), true);
      const stored = await s.get(r.id);
      assert.equal(await s.finish(r.id, done), true, 'the same success again');
      assert.deepEqual(await s.get(r.id), stored, 'and nothing changed');
      assert.equal(await s.finish(r.id, { ...done, workerId: 'w1' }), false, 'another worker');
      assert.equal(await s.finish(r.id, { ...done, attempt: 1 }), false, 'another attempt');
      const failed = { status: 'failed' as const, error: boom };
      assert.equal(await s.finish(r.id, { ...done, outcome: failed }), false, 'another outcome');
    });

    test('createMany: in order across script calls, a later record sees the earlier ones', async () => {
      const { store: s } = await stores();
      // 250 records (three script calls of the Redis store); every 50th repeats the
      // previous record's dedup key, and one key was answered before and cached.
      const cachedKey = `add:cached-${randomUUID()}`;
      const seed = record({ dedupKey: cachedKey });
      await createOne(s, seed, DEDUP);
      await claimed(s, seed, 'w1', T0);
      const step = {
        workerId: 'w1',
        attempt: 1,
        now: T0 + 5,
        outcome: success(3),
        cacheTtlMs: 60_000,
      };
      assert.equal(await s.finish(seed.id, step), true);
      const records = Array.from({ length: 250 }, (_, i) =>
        record({ dedupKey: i === 7 ? cachedKey : `add:${i % 50 === 49 ? i - 1 : i}-${seed.id}` }),
      );
      const outcomes = await s.createMany(records, DEDUP);
      assert.equal(outcomes.length, 250);
      outcomes.forEach((outcome, i) => {
        if (i === 7) {
          assert.equal(outcome.kind, 'cached');
          if (outcome.kind === 'cached') assert.equal(outcome.record.result, 3);
        } else if (i % 50 === 49) {
          assert.deepEqual(outcome, { kind: 'duplicate', id: records[i - 1]!.id }, `record ${i}`);
        } else {
          assert.deepEqual(outcome, { kind: 'created' }, `record ${i}`);
        }
      });
      assert.deepEqual(await s.get(records[100]!.id), records[100]);
      assert.equal(await s.get(records[149]!.id), null, 'a duplicate is not written');
      assert.deepEqual(await s.createMany([], DEDUP), []);
    });

    test('a create sent again (its reply lost, the client resending it) is created, not a duplicate of itself', async () => {
      const { store: s } = await stores();
      const r = record({ dedupKey: `add:resent-${randomUUID()}` });
      assert.deepEqual(await createOne(s, r, DEDUP), { kind: 'created' });
      assert.deepEqual(await createOne(s, r, DEDUP), { kind: 'created' }, 'the same create again');
      assert.deepEqual(await s.get(r.id), r);
      const other = record({ dedupKey: r.dedupKey });
      assert.deepEqual(
        await createOne(s, other, DEDUP),
        { kind: 'duplicate', id: r.id },
        'another task with that dedup key is still a duplicate',
      );
    });

    test('a create with an id that exists writes nothing: another submission is refused as exists', async () => {
      const { store: s, monitorStore } = await stores();
      const first = record({ dedupKey: null });
      assert.deepEqual(await createOne(s, first, DEDUP), { kind: 'created' });
      await claimed(s, first, 'w1', T0);
      // The same id again, another submission (a schedule's tick fired by a second monitor).
      const again = {
        ...record({ dedupKey: null, args: [9, 9] }),
        id: first.id,
        submittedAt: T0 + 7,
      };
      assert.deepEqual(await createOne(s, again, DEDUP), { kind: 'exists', id: first.id });
      const kept = await s.get(first.id);
      assert.equal(kept?.status, 'processing', 'the running task was not reset');
      assert.equal(kept?.worker, 'w1');
      assert.deepEqual(kept?.args, first.args);
      assert.equal(
        (await createOne(s, { ...again, runAt: T0 + 60_000 }, { dedup: false, useCache: false }))
          .kind,
        'exists',
        'without dedup too',
      );
      assert.deepEqual(
        (await monitorStore.dueTasks(T0 + 120_000, 10)).filter((r) => r.id === first.id),
        [],
        'nor was it scheduled',
      );
    });

    test('a resubmit sent again (its reply lost, the client resending it) answers as the first did', async () => {
      const { store: s } = await stores();
      const r = record({ dedupKey: null, maxAttempts: 1 });
      await createOne(s, r, DEDUP);
      await claimed(s, r, 'w1', T0);
      const failure = { status: 'failed' as const, error: boom };
      const step = { workerId: 'w1', attempt: 1, now: T0 + 5, outcome: failure, cacheTtlMs: 0 };
      assert.equal(await s.finish(r.id, step), true);
      const first = await s.resubmit(r.id, T0 + 10);
      assert.ok(first.ok, 'resubmitted');
      const again = await s.resubmit(r.id, T0 + 10);
      assert.ok(again.ok, 'the same resubmit again');
      if (first.ok && again.ok) assert.deepEqual(again.record, first.record);
      const later = await s.resubmit(r.id, T0 + 11);
      assert.deepEqual(
        later,
        { ok: false, reason: 'not-retryable' },
        'another resubmit of a queued task',
      );
    });

    test('requeue re-checks the holder heartbeat in the same step: alive again, nothing is moved', async () => {
      const { store: s, registry, monitorStore } = await stores();
      const r = record({ dedupKey: null });
      await createOne(s, r, DEDUP);
      await registry.register(worker('w-busy'), 10_000);
      await claimed(s, r, 'w-busy', T0);
      // The reaper saw the key expired; the watchdog beat again before the requeue ran.
      assert.deepEqual(await monitorStore.requeue(r.id, 'w-busy', T0 + 1, 3), {
        ok: false,
        reason: 'alive',
      });
      assert.deepEqual(await monitorStore.heldBy('w-busy'), [r.id]);
      assert.equal((await s.get(r.id))?.status, 'processing');
      await registry.deregister('w-busy');
      const requeued = await monitorStore.requeue(r.id, 'w-busy', T0 + 2, 3);
      assert.equal(requeued.ok && requeued.record.status, 'queued');
    });
  });
}
