// Concurrency limits at the store, the same for every store (memory, Redis): a group's
// slots are held by its running tasks; a claim past the limit parks, and the slot a task
// gives back (finished, retrying, lost with its worker, cancelled while handed one) goes
// to the longest-parked task of its group, offered through the turn channel.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ClaimGates, ConcurrencyGate } from '../../src/core/concurrency.ts';
import type { Stores, TaskStore } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';
import { boom, createdTasks, envelope, listenTurns, suiteStores, T0 } from './store-fixtures.ts';

/** The limit tests against the stores `open` makes (once, closed after the suite). */
export function runStoreLimits(label: string, open: () => Promise<Stores>): void {
  describe(`concurrency limits at the store: ${label}`, () => {
    const stores = suiteStores(open);

    const PARKED = { ok: false, reason: 'parked' };
    const tasks = async (n: number) => createdTasks((await stores()).store, n);
    const gateOf = (limit: number): ConcurrencyGate => ({
      group: `limit:job:${randomUUID()}`,
      limit,
    });
    const claimOf = async (r: TaskRecord, gate: ConcurrencyGate, workerId = 'w1', attempt = 1) =>
      (await stores()).store.claim(envelope(r, attempt), workerId, T0 + 10, undefined, undefined, {
        concurrency: gate,
      });
    const finish = async (r: TaskRecord, outcome: FinishOutcome, workerId = 'w1', attempt = 1) =>
      (await stores()).store.finish(r.id, {
        workerId,
        attempt,
        now: T0 + 20 + attempt,
        outcome,
        cacheTtlMs: 0,
      });
    const offered = async (group: TaskRecord[], now = T0 + 30) => {
      const ids = new Set(group.map((r) => r.id));
      const taken = await (await stores()).monitorStore.takeRecovered(now, 1000, 1);
      return taken.filter((r) => ids.has(r.id)).map((r) => r.id);
    };

    test('a claim past the limit parks; a finished task hands its slot to the longest-parked one', async () => {
      const { store, monitorStore } = await stores();
      const gate = gateOf(2);
      const [a, b, c, d, e] = await tasks(5);
      assert.ok((await claimOf(a!, gate)).ok);
      const second = await claimOf(b!, gate, 'w2');
      assert.ok(second.ok);
      assert.equal(second.record.slot, gate.group);
      assert.deepEqual(await claimOf(c!, gate), { ok: false, reason: 'parked' });
      assert.deepEqual(await claimOf(d!, gate), { ok: false, reason: 'parked' });
      assert.equal((await store.get(c!.id))?.parkedOn, gate.group);
      const counts = await monitorStore.parked(100);
      assert.deepEqual(
        counts.groups.find((g) => g.group === gate.group),
        { group: gate.group, tasks: 2 },
      );
      const turns = await listenTurns(store);
      try {
        assert.ok(await finish(a!, { status: 'success', result: 1 }));
        await turns.until(c!.id);
      } finally {
        await turns.stop();
      }
      assert.deepEqual(await offered([c!, d!]), [c!.id], 'the longest parked, alone');
      assert.deepEqual(
        await claimOf(e!, gate),
        { ok: false, reason: 'parked' },
        'the freed slot is kept for c, not taken by a newcomer',
      );
      assert.ok((await claimOf(c!, gate, 'w3')).ok, 'c claims the slot it was handed');
      assert.equal((await store.get(c!.id))?.parkedOn, undefined);
      assert.deepEqual(await claimOf(d!, gate), { ok: false, reason: 'parked' });
    });

    test('a retrying task and a dead worker give their slot back; a task of another group is not held up', async () => {
      const { monitorStore } = await stores();
      const gate = gateOf(1);
      const [a, b, c] = await tasks(3);
      assert.ok((await claimOf(a!, gate)).ok);
      assert.deepEqual(await claimOf(b!, gate), { ok: false, reason: 'parked' });
      const [other] = await tasks(1);
      assert.ok((await claimOf(other!, gateOf(1))).ok, 'another group has its own slots');
      assert.ok(
        await finish(a!, { status: 'failed', error: boom, retryAt: T0 + 100 }),
        'a waits to retry',
      );
      assert.deepEqual(await offered([b!]), [b!.id], 'a retrying task runs no more: b has it');
      assert.ok((await claimOf(b!, gate, 'dead')).ok);
      assert.deepEqual(await claimOf(c!, gate), { ok: false, reason: 'parked' });
      assert.ok((await monitorStore.requeue(b!.id, 'dead', T0 + 40, 3)).ok);
      assert.deepEqual(await offered([c!], T0 + 41), [c!.id], "the dead worker's slot: c's");
      assert.deepEqual(
        await claimOf(b!, gate, 'w2'),
        { ok: false, reason: 'parked' },
        'b, back in the queue, waits for a slot like any other',
      );
    });

    test('a task taken from the recovering set that parks is not offered again until a slot is its', async () => {
      const { monitorStore } = await stores();
      const gate = gateOf(1);
      const [a, b] = await tasks(2);
      assert.ok((await claimOf(a!, gate, 'dead')).ok);
      assert.deepEqual(await claimOf(b!, gate), { ok: false, reason: 'parked' });
      // The dead worker's a comes back to the queue; its slot goes to b, waiting longest.
      assert.ok((await monitorStore.requeue(a!.id, 'dead', T0 + 40, 3)).ok);
      assert.deepEqual((await offered([a!, b!], T0 + 41)).sort(), [a!.id, b!.id].sort());
      assert.deepEqual(await claimOf(a!, gate, 'w2'), { ok: false, reason: 'parked' });
      assert.ok((await claimOf(b!, gate, 'w3')).ok);
      assert.deepEqual(await offered([a!], T0 + 5000), [], 'a waits for a slot, not re-offered');
      assert.ok(await finish(b!, { status: 'success', result: 1 }, 'w3'));
      assert.deepEqual(await offered([a!], T0 + 5001), [a!.id], "the slot b gave back is a's");
    });

    test('a slot freed without a finish (a raised limit) goes to the longest-parked task, not to a newcomer', async () => {
      const gate = gateOf(1);
      const [a, b, c] = await tasks(3);
      assert.ok((await claimOf(a!, gate)).ok);
      assert.deepEqual(await claimOf(b!, gate), { ok: false, reason: 'parked' });
      const raised = { ...gate, limit: 2 };
      assert.deepEqual(await claimOf(c!, raised), { ok: false, reason: 'parked' }, 'b is first');
      assert.deepEqual(await offered([b!, c!], T0 + 30), [b!.id], 'b is handed the new slot');
      assert.ok((await claimOf(b!, raised, 'w2')).ok);
    });

    test('a task parked on one group and then on another counts once, on the second', async () => {
      const { store, monitorStore } = await stores();
      const gate = gateOf(1);
      const rate = { group: `rate:job:${randomUUID()}`, limit: 1, intervalMs: 60_000 };
      const [x, t, y] = await tasks(3);
      const claimWith = async (r: TaskRecord, gates: ClaimGates) =>
        store.claim(envelope(r), 'w1', T0 + 10, undefined, undefined, gates);
      assert.ok((await claimWith(x!, { concurrency: gate })).ok, 'x holds the one slot');
      assert.deepEqual(await claimWith(t!, { concurrency: gate, rate }), PARKED, 'on the slot');
      assert.ok((await claimWith(y!, { rate })).ok, 'y takes the one start of the window');
      // t claimed again (a redelivery): now the window is full, so it parks on the rate.
      assert.deepEqual(await claimWith(t!, { concurrency: gate, rate }), PARKED);
      assert.equal((await store.get(t!.id))?.parkedOn, rate.group);
      const groups = (await monitorStore.parked(1000)).groups.filter(
        (g) => g.group === gate.group || g.group === rate.group,
      );
      assert.deepEqual(groups, [{ group: rate.group, tasks: 1 }]);
    });

    test('a parked task cancelled ends at once; one cancelled while handed a slot passes it on', async () => {
      const { store, monitorStore } = await stores();
      const gate = gateOf(1);
      const [a, b, c, d] = await tasks(4);
      assert.ok((await claimOf(a!, gate)).ok);
      for (const r of [b!, c!, d!])
        assert.deepEqual(await claimOf(r, gate), { ok: false, reason: 'parked' });
      const cancelled = await store.cancel(c!.id, T0 + 12);
      assert.ok(cancelled.ok && cancelled.record.status === 'cancelled');
      assert.equal(cancelled.record.parkedOn, undefined);
      assert.ok(await finish(a!, { status: 'success', result: 1 }));
      assert.deepEqual(await offered([b!, d!]), [b!.id]);
      assert.ok((await store.cancel(b!.id, T0 + 31)).ok, 'b cancelled before its claim');
      assert.deepEqual(await offered([d!], T0 + 32), [d!.id], 'so d has the slot');
      assert.ok((await claimOf(d!, gate)).ok);
      const counts = await monitorStore.parked(100);
      assert.equal(
        counts.groups.find((g) => g.group === gate.group),
        undefined,
        'none parked',
      );
    });
  });
}

type FinishOutcome = Parameters<TaskStore['finish']>[1]['outcome'];
