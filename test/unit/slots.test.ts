// The worker's slots: a task holds one from its claim until its steps are done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Processed } from '../../src/core/worker/process-delivery.ts';
import { Slots } from '../../src/core/worker/slots.ts';

/** A task whose settling the test decides. */
function task(slots: Slots): (processed: Processed) => void {
  let done!: (processed: Processed) => void;
  slots.track(
    new Promise<Processed>((resolve) => {
      done = resolve;
    }),
  );
  return done;
}

test('a task holds its slot until it settles; outcomes are counted', async () => {
  const slots = new Slots(2);
  const a = task(slots);
  const b = task(slots);
  assert.equal(slots.free(0), 0);
  const freed = slots.freed();
  a('success');
  await freed;
  assert.equal(slots.free(0), 1);
  b('failed');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([slots.inFlight, slots.free(0), slots.processed, slots.failed], [0, 2, 1, 1]);
  assert.equal(slots.free(1), 1, 'zombies keep their slots');
});
