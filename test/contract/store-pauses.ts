// Pausing a task name at the store, the same for every store (memory, Redis): a claim of a
// paused name parks on pause:<name> (others run); resume offers every parked one again;
// a parked one cancelled leaves the count; a slot it was handed goes to the next task.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { PauseControl } from '../../src/core/pause.ts';
import type { Stores } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';
import { createdTasks, envelope, suiteStores, T0 } from './store-fixtures.ts';

type PausableStores = Stores & { pauses: PauseControl };

export function runStorePauses(label: string, open: () => Promise<PausableStores>): void {
  describe(`pausing a task name at the store: ${label}`, () => {
    const stores = suiteStores(open) as () => Promise<PausableStores>;
    const PARKED = { ok: false, reason: 'parked' };
    const named = async (name: string, n: number) =>
      createdTasks((await stores()).store, n, { name, dedupKey: null });
    const claim = async (r: TaskRecord, workerId = 'w1') =>
      (await stores()).store.claim(envelope(r), workerId, T0 + 10);
    const offered = async (group: TaskRecord[]) => {
      const ids = new Set(group.map((r) => r.id));
      const taken = await (await stores()).monitorStore.takeRecovered(T0 + 30, 10_000, 1);
      return taken.filter((r) => ids.has(r.id)).map((r) => r.id);
    };
    const parkedOn = async (group: string) =>
      (await (await stores()).monitorStore.parked(1000)).groups.find((g) => g.group === group)
        ?.tasks ?? 0;

    test('a paused name parks; others run; resume offers each parked task once', async () => {
      const { pauses, store } = await stores();
      const name = `report-${randomUUID()}`;
      const other = `mail-${randomUUID()}`;
      assert.equal(await pauses.pause(name), true);
      assert.equal(await pauses.pause(name), false, 'paused already');
      assert.ok((await pauses.paused()).includes(name));
      const waiting = await named(name, 5);
      const [free] = await named(other, 1);
      for (const r of waiting) assert.deepEqual(await claim(r), PARKED, r.id);
      assert.equal((await claim(free!)).ok, true, 'another name runs');
      assert.equal(await parkedOn(`pause:${name}`), 5);
      const record = await store.get(waiting[0]!.id);
      assert.equal(record?.status, 'queued');
      assert.equal(record?.parkedOn, `pause:${name}`);
      // A parked one claimed again (a redelivery) stays parked, counted once.
      assert.deepEqual(await claim(waiting[0]!), PARKED);
      assert.equal(await parkedOn(`pause:${name}`), 5);
      assert.deepEqual(await offered(waiting), [], 'nothing offered while paused');
      // One is cancelled while parked: it leaves the count and is not offered.
      assert.equal((await store.cancel(waiting[4]!.id, T0 + 20)).ok, true);
      assert.equal(await parkedOn(`pause:${name}`), 4);
      assert.equal(await pauses.resume(name), 4);
      assert.equal((await pauses.paused()).includes(name), false);
      assert.equal(await parkedOn(`pause:${name}`), 0);
      assert.deepEqual(
        (await offered(waiting)).sort(),
        waiting
          .slice(0, 4)
          .map((r) => r.id)
          .sort(),
      );
      for (const r of waiting.slice(0, 4)) assert.equal((await claim(r, 'w2')).ok, true, r.id);
      assert.equal(await pauses.resume(name), 0, 'resumed already: nothing left');
    });

    test('a task handed a slot while its name was paused gives the slot to the next', async () => {
      const { pauses, store } = await stores();
      const name = `limited-${randomUUID()}`;
      const gate = { concurrency: { group: `limit:${name}`, limit: 1 } };
      const [a, b, c] = await named(name, 3);
      const gated = (r: TaskRecord) =>
        store.claim(envelope(r), 'w1', T0 + 10, undefined, undefined, gate);
      assert.equal((await gated(a!)).ok, true);
      assert.deepEqual(await gated(b!), PARKED, 'the limit');
      assert.deepEqual(await gated(c!), PARKED, 'the limit');
      await pauses.pause(name);
      // a finishes: its slot is handed to b, offered; b's claim finds the pause.
      const done = { workerId: 'w1', attempt: 1, now: T0 + 20, cacheTtlMs: 0 };
      assert.equal(
        await store.finish(a!.id, { ...done, outcome: { status: 'success', result: 1 } }),
        true,
      );
      assert.deepEqual(await gated(b!), PARKED);
      assert.equal((await store.get(b!.id))?.parkedOn, `pause:${name}`);
      assert.equal((await store.get(b!.id))?.slot, undefined, 'its slot went on');
      assert.equal((await store.get(c!.id))?.slot, `limit:${name}`, 'handed to c');
      await pauses.resume(name);
      assert.equal((await gated(c!)).ok, true, 'c runs with the slot');
      assert.deepEqual(await gated(b!), PARKED, 'b waits for the limit again');
    });
  });
}
