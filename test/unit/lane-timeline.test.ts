// The ordering-lanes suite's readings (test/contract/lane-timeline.ts) on made-up timelines,
// so a red lanes run is the queue's fault, not the analysis's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  keysOutOfOrder,
  type LaneRun,
  maxConcurrentGroups,
  overlapsWithinKeys,
  runsPerTask,
} from '../contract/lane-timeline.ts';

const run = (key: string | null, seq: number, startedAt: number, endedAt: number): LaneRun => ({
  taskId: `${key}-${seq}`,
  key,
  seq,
  startedAt,
  endedAt,
  workerId: 'w',
});

test('back-to-back runs of a key in submit order: no overlap, in order; keys side by side count', () => {
  // Three keys, each a chain of touching runs (an end equal to the next start is no overlap).
  const runs = ['a', 'b', 'c'].flatMap((key, k) =>
    [0, 1, 2].map((seq) => run(key, seq, k * 0.5 + seq * 10, k * 0.5 + seq * 10 + 10)),
  );
  assert.deepEqual(overlapsWithinKeys(runs), []);
  assert.deepEqual(keysOutOfOrder(runs), []);
  assert.equal(
    maxConcurrentGroups(runs, (r) => r.key!),
    3,
  );
  assert.deepEqual([...runsPerTask(runs).values()], Array(9).fill(1));
});

test('an overlap, a swapped order and a run twice are found', () => {
  const runs = [run('a', 0, 0, 10), run('a', 1, 5, 12), run('b', 1, 0, 3), run('b', 0, 4, 6)];
  assert.deepEqual(
    overlapsWithinKeys(runs).map((o) => [o.key, o.earlier.seq, o.later.seq]),
    [['a', 0, 1]],
  );
  assert.deepEqual(keysOutOfOrder(runs), [{ key: 'b', order: [1, 0] }]);
  assert.equal(runsPerTask([...runs, run('a', 0, 20, 21)]).get('a-0'), 2);
});

test('touching runs are not concurrent; plain runs count one group each', () => {
  assert.equal(
    maxConcurrentGroups([run('a', 0, 0, 5), run('b', 0, 5, 9)], (r) => r.key!),
    1,
  );
  const plain = [run(null, 0, 0, 5), run(null, 1, 1, 2), run(null, 2, 6, 7)];
  assert.equal(
    maxConcurrentGroups(plain, (r) => r.taskId),
    2,
  );
  assert.deepEqual(overlapsWithinKeys(plain), []);
});
