// Ordering lanes at the store, the same for every store (memory, Redis): a lane's tasks are
// claimed one at a time in create order, a task claimed early is parked and handed on
// (the turn channel, then takeRecovered) when its predecessor ends, however it ends.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.ts';
import type { Stores, TaskStore } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';
import {
  boom,
  claimed,
  createdTasks,
  envelope,
  listenTurns,
  record,
  suiteStores,
  T0,
} from './store-fixtures.ts';

/** The lane tests against the stores `open` makes (once, closed after the suite). */
export function runStoreLanes(label: string, open: () => Promise<Stores>): void {
  describe(`ordering lanes at the store: ${label}`, () => {
    const stores = suiteStores(open);

    /** `n` tasks of one fresh lane, created in order. */
    const lane = async (n: number) =>
      createdTasks((await stores()).store, n, { orderingKey: `lane-${randomUUID()}` });

    const claimOf = async (r: TaskRecord, workerId: string, now = T0 + 10) =>
      (await stores()).store.claim(envelope(r), workerId, now);

    test('create order gives each task its laneSeq; only the first is claimed, the others park', async () => {
      const { store } = await stores();
      const [a, b, c] = await lane(3);
      const seqs = await Promise.all([a, b, c].map(async (r) => (await store.get(r!.id))!.laneSeq));
      assert.ok(seqs.every((s) => typeof s === 'number'));
      assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!, `increasing: ${seqs}`);
      assert.deepEqual(await claimOf(c!, 'w1'), { ok: false, reason: 'parked' });
      assert.deepEqual(await claimOf(b!, 'w2'), { ok: false, reason: 'parked' });
      const parked = await store.get(c!.id);
      assert.equal(parked?.status, 'queued');
      assert.equal(parked?.parkedOn, `lane:${c!.orderingKey}`);
      const first = await claimOf(a!, 'w1');
      assert.ok(first.ok);
      assert.equal(first.record.laneSeq, seqs[0]);
      assert.deepEqual(await claimOf(b!, 'w2'), { ok: false, reason: 'parked' }, 'parked again');
    });

    test('a task of another lane, or of none, is not held up by a busy lane', async () => {
      const { store } = await stores();
      const [a] = await lane(1);
      await claimed(store, a!, 'w1', T0 + 5);
      const [other] = await lane(1);
      assert.ok((await claimOf(other!, 'w1')).ok);
      const [plain] = await createdTasks(store, 1);
      assert.ok((await claimOf(plain!, 'w1')).ok);
    });

    test('when the first ends, a parked next one is told (turn) and offered through takeRecovered', async () => {
      const { store, monitorStore } = await stores();
      const [a, b, c] = await lane(3);
      await claimed(store, a!, 'w1', T0 + 5);
      assert.deepEqual(await claimOf(b!, 'w1'), { ok: false, reason: 'parked' });
      assert.deepEqual(await claimOf(c!, 'w1'), { ok: false, reason: 'parked' });
      const turns = await listenTurns(store);
      try {
        assert.ok(await finishOk(store, a!, 'w1', { status: 'success', result: 1 }));
        await turns.until(b!.id);
        assert.ok(!turns.heard.includes(c!.id), 'only the next task is told');
      } finally {
        await turns.stop();
      }
      assert.equal((await store.get(b!.id))?.parkedOn, undefined, 'no longer parked');
      const offered = await monitorStore.takeRecovered(T0 + 30, 10, 1000);
      assert.deepEqual(
        offered.filter((r) => r.orderingKey === b!.orderingKey).map((r) => r.id),
        [b!.id],
      );
      const turn = await claimOf(b!, 'w2', T0 + 31);
      assert.ok(turn.ok, 'its turn: claimed');
      assert.deepEqual(await claimOf(c!, 'w2', T0 + 32), { ok: false, reason: 'parked' });
    });

    test('a failed, cancelled, lost or discarded first task hands the lane on; a retrying one keeps it', async () => {
      const { store, monitorStore } = await stores();
      // Retrying keeps the lane; failing for good hands it on.
      const [a, b] = await lane(2);
      await claimed(store, a!, 'w1', T0 + 5);
      assert.deepEqual(await claimOf(b!, 'w1'), { ok: false, reason: 'parked' });
      const retry = { status: 'failed' as const, error: boom, retryAt: T0 + 100 };
      assert.ok(await finishOk(store, a!, 'w1', retry));
      assert.equal(
        (await store.get(b!.id))?.parkedOn,
        `lane:${b!.orderingKey}`,
        'still parked: a will run again',
      );
      const second = await store.claim(envelope(a!, 2), 'w1', T0 + 101);
      assert.ok(second.ok);
      assert.ok(await finishOk(store, a!, 'w1', { status: 'failed', error: boom }, 2, T0 + 102));
      assert.ok((await claimOf(b!, 'w1', T0 + 103)).ok, 'a failed for good: b runs');

      // A parked task cancelled ends at once and leaves its lane; so does a cancelled first.
      const [c, d, e] = await lane(3);
      assert.deepEqual(await claimOf(e!, 'w1'), { ok: false, reason: 'parked' });
      const cancelled = await store.cancel(e!.id, T0 + 11);
      assert.ok(cancelled.ok);
      assert.equal(cancelled.record.status, 'cancelled');
      assert.equal(cancelled.record.parkedOn, undefined);
      assert.deepEqual(await claimOf(d!, 'w1'), { ok: false, reason: 'parked' });
      assert.ok((await store.cancel(c!.id, T0 + 12)).ok);
      assert.ok((await claimOf(d!, 'w1', T0 + 13)).ok, 'c cancelled: d runs');

      // Lost: requeued (still first), then lost for good (WORKER_LOST) hands on.
      const [f, g] = await lane(2);
      await claimed(store, f!, 'dead', T0 + 5);
      assert.deepEqual(await claimOf(g!, 'w1'), { ok: false, reason: 'parked' });
      assert.ok((await monitorStore.requeue(f!.id, 'dead', T0 + 20, 2)).ok);
      assert.deepEqual(await claimOf(g!, 'w1', T0 + 21), { ok: false, reason: 'parked' });
      await claimed(store, f!, 'dead', T0 + 22);
      const lost = await monitorStore.requeue(f!.id, 'dead', T0 + 23, 2);
      assert.ok(lost.ok && lost.record.status === 'failed');
      assert.ok((await claimOf(g!, 'w1', T0 + 24)).ok, 'f lost for good: g runs');

      // Discarded (never produced): the next one's turn.
      const [h, i] = await lane(2);
      assert.deepEqual(await claimOf(i!, 'w1'), { ok: false, reason: 'parked' });
      await store.discard(h!.id);
      assert.ok((await claimOf(i!, 'w1', T0 + 14)).ok, 'h discarded: i runs');
    });

    test('a first task whose message never comes is offered from the store after the lane stall', async () => {
      const { monitorStore } = await stores();
      const [a, b] = await lane(2);
      assert.deepEqual(await claimOf(b!, 'w1', T0 + 10), { ok: false, reason: 'parked' });
      const mine = (records: TaskRecord[]) =>
        records.filter((r) => r.orderingKey === a!.orderingKey).map((r) => r.id);
      assert.deepEqual(mine(await monitorStore.takeRecovered(T0 + 11, 100, 1000)), []);
      const due = T0 + 10 + DEFAULTS.laneStallMs;
      assert.deepEqual(mine(await monitorStore.takeRecovered(due, 100, 1000)), [a!.id]);
    });

    test('a resubmitted task joins the end of its lane; a record made from its envelope joins too', async () => {
      const { store } = await stores();
      const [a, b] = await lane(2);
      await claimed(store, a!, 'w1', T0 + 5);
      assert.ok(await finishOk(store, a!, 'w1', { status: 'failed', error: boom }));
      const again = await store.resubmit(a!.id, T0 + 30);
      assert.ok(again.ok);
      const bSeq = (await store.get(b!.id))!.laneSeq!;
      assert.ok(again.record.laneSeq! > bSeq, 'after b');
      assert.deepEqual(await store.claim(envelope(a!, 2), 'w1', T0 + 31), {
        ok: false,
        reason: 'parked',
      });
      assert.ok((await claimOf(b!, 'w1', T0 + 32)).ok);

      // No record (lost with its Redis): the claim makes it from the envelope, in the lane.
      const orphan = record({ dedupKey: null, orderingKey: b!.orderingKey! });
      const fresh = { ...envelope(orphan), submittedAt: Date.now() };
      assert.deepEqual(await store.claim(fresh, 'w1', Date.now()), { ok: false, reason: 'parked' });
      const made = await store.get(orphan.id);
      assert.ok(made !== null && made.laneSeq! > bSeq && made.parkedOn !== undefined);
    });
  });
}

async function finishOk(
  store: TaskStore,
  r: TaskRecord,
  workerId: string,
  outcome: Parameters<TaskStore['finish']>[1]['outcome'],
  attempt = 1,
  now = T0 + 20,
): Promise<boolean> {
  return store.finish(r.id, { workerId, attempt, now, outcome, cacheTtlMs: 0 });
}
