// The worker's slots: a task holds one from its claim until its handler ran; outcomes
// being stored hold none, up to as many as the concurrency, past which the intake waits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Processed } from '../../src/core/worker/process-delivery.ts';
import { Slots } from '../../src/core/worker/slots.ts';

/** A task whose handler end and whose settling the test decides. */
function task(slots: Slots) {
  let ran!: () => void;
  let done!: (processed: Processed) => void;
  slots.track((release) => {
    ran = release;
    return new Promise<Processed>((resolve) => {
      done = resolve;
    });
  });
  return { ran: () => ran(), done: (p: Processed) => done(p) };
}

test('a task frees its slot when its handler has run, and leaves the in-flight count when settled', async () => {
  const slots = new Slots(2);
  const a = task(slots);
  const b = task(slots);
  assert.equal(slots.free(0), 0);
  a.ran();
  a.ran();
  assert.equal(slots.free(0), 1, 'ran() twice frees one slot');
  assert.equal(slots.inFlight, 2);
  a.done('success');
  b.done('failed');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([slots.inFlight, slots.holding, slots.free(0)], [0, 0, 2]);
  assert.deepEqual([slots.processed, slots.failed], [1, 1]);
  assert.equal(slots.free(1), 1, 'zombies keep their slots');
});

test('outcomes being stored take no slot up to the concurrency; past it the intake waits', () => {
  const slots = new Slots(2);
  for (const t of [task(slots), task(slots)]) t.ran();
  assert.equal(slots.free(0), 2, 'two storing: both slots free');
  for (const t of [task(slots), task(slots)]) t.ran();
  assert.equal(slots.free(0), 0, 'four storing (2 x concurrency): none free');
});

test('freed() resolves at the next wake', async () => {
  const slots = new Slots(1);
  const t = task(slots);
  const freed = slots.freed();
  t.ran();
  await freed;
});
