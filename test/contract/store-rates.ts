// Rate limits at the store, the same for every store (memory, Redis): a sliding log of
// starts, at most `limit` in any window; a claim that comes while the window is full (or
// while others wait) parks, and only the first parked task is offered, at the time the
// window has room for it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RateGate } from '../../src/core/concurrency.ts';
import type { Stores } from '../../src/core/store.ts';
import type { TaskRecord } from '../../src/core/task-record.ts';
import { createdTasks, envelope, suiteStores, T0 } from './store-fixtures.ts';

/** The rate tests against the stores `open` makes (once, closed after the suite). */
export function runStoreRates(label: string, open: () => Promise<Stores>): void {
  describe(`rate limits at the store: ${label}`, () => {
    const stores = suiteStores(open);

    const tasks = async (n: number) => createdTasks((await stores()).store, n);
    const twoPerSecond = (): RateGate => ({
      group: `rate:job:${randomUUID()}`,
      limit: 2,
      intervalMs: 1000,
    });
    const claimAt = async (r: TaskRecord, rate: RateGate, now: number) =>
      (await stores()).store.claim(envelope(r), 'w1', now, undefined, undefined, { rate });
    const offered = async (group: TaskRecord[], now: number) => {
      const ids = new Set(group.map((r) => r.id));
      const taken = await (await stores()).monitorStore.takeRecovered(now, 1000, 1);
      return taken.filter((r) => ids.has(r.id)).map((r) => r.id);
    };
    const PARKED = { ok: false, reason: 'parked' };

    test('at most 2 starts in any 1 s: the third parks and is offered when the window has room, in order', async () => {
      const { store } = await stores();
      const rate = twoPerSecond();
      const [a, b, c, d, e] = await tasks(5);
      assert.ok((await claimAt(a!, rate, T0)).ok);
      assert.ok((await claimAt(b!, rate, T0)).ok);
      assert.deepEqual(await claimAt(c!, rate, T0 + 1), PARKED);
      assert.deepEqual(await claimAt(d!, rate, T0 + 2), PARKED);
      assert.equal((await store.get(c!.id))?.parkedOn, rate.group);
      assert.deepEqual(await offered([c!, d!], T0 + 999), [], 'not before the window has room');
      assert.deepEqual(await offered([c!, d!], T0 + 1000), [c!.id], 'the first parked, alone');
      assert.ok((await claimAt(c!, rate, T0 + 1000)).ok, 'a and b are out of its window');
      assert.equal((await store.get(c!.id))?.parkedOn, undefined);
      assert.deepEqual(await offered([d!], T0 + 1000), [d!.id], 'room for one more: d');
      assert.deepEqual(await claimAt(e!, rate, T0 + 1000), PARKED, 'e waits behind d');
      assert.ok((await claimAt(d!, rate, T0 + 1000)).ok);
      assert.deepEqual(await offered([e!], T0 + 1999), []);
      assert.deepEqual(await offered([e!], T0 + 2000), [e!.id], 'when c and d leave the window');
      assert.deepEqual(await claimAt(e!, rate, T0 + 1500), PARKED, 'too early: waits again');
      assert.ok((await claimAt(e!, rate, T0 + 2000)).ok);
    });

    test('a parked task cancelled ends at once; the next one is offered and checks the window itself', async () => {
      const { store, monitorStore } = await stores();
      const rate = twoPerSecond();
      const [a, b, c, d] = await tasks(4);
      assert.ok((await claimAt(a!, rate, T0)).ok);
      assert.ok((await claimAt(b!, rate, T0)).ok);
      assert.deepEqual(await claimAt(c!, rate, T0 + 1), PARKED);
      assert.deepEqual(await claimAt(d!, rate, T0 + 2), PARKED);
      const cancelled = await store.cancel(c!.id, T0 + 3);
      assert.ok(cancelled.ok && cancelled.record.status === 'cancelled');
      assert.equal(cancelled.record.parkedOn, undefined);
      assert.deepEqual(await offered([d!], T0 + 4), [d!.id], 'd, now first, is offered');
      assert.deepEqual(await claimAt(d!, rate, T0 + 4), PARKED, 'the window is still full');
      assert.deepEqual(await offered([d!], T0 + 1000), [d!.id]);
      assert.ok((await claimAt(d!, rate, T0 + 1000)).ok);
      const counts = await monitorStore.parked(100);
      assert.equal(
        counts.groups.find((g) => g.group === rate.group),
        undefined,
      );
    });
  });
}
