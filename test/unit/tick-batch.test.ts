import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TickBatch } from '../../src/core/tick-batch.ts';

function recorder() {
  const calls: number[][] = [];
  const batch = new TickBatch<number, number>(async (items) => {
    calls.push(items);
    return items.map((i) => i * 10);
  }, 3);
  return { calls, batch };
}

test('the calls of one turn go as one batch, in order, each with its own answer', async () => {
  const { calls, batch } = recorder();
  const answers = await Promise.all([1, 2].map((i) => batch.add(i)));
  assert.deepEqual(answers, [10, 20]);
  assert.deepEqual(calls, [[1, 2]]);
});

test('a lone call is sent at the end of its turn, alone; a later turn makes another batch', async () => {
  const { calls, batch } = recorder();
  assert.equal(await batch.add(7), 70);
  assert.equal(await batch.add(8), 80);
  assert.deepEqual(calls, [[7], [8]]);
});

test('more than maxBatch in one turn are split into calls of at most maxBatch', async () => {
  const { calls, batch } = recorder();
  const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => batch.add(i)));
  assert.deepEqual(answers, [10, 20, 30, 40, 50, 60, 70]);
  assert.deepEqual(calls, [[1, 2, 3], [4, 5, 6], [7]]);
});

test('a failed call rejects each of its items with the error; the next batch is unaffected', async () => {
  let fail = true;
  const batch = new TickBatch<number, number>(async (items) => {
    if (fail) throw new Error('store down');
    return items;
  }, 10);
  const results = await Promise.allSettled([batch.add(1), batch.add(2)]);
  assert.deepEqual(
    results.map((r) => r.status === 'rejected' && (r.reason as Error).message),
    ['store down', 'store down'],
  );
  fail = false;
  assert.equal(await batch.add(3), 3);
});
