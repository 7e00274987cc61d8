import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OffsetTracker } from '../../src/core/offset-tracker.ts';

/** A tracker with `offsets` of `partition` delivered. */
function deliveredTracker(
  partition: number,
  offsets: number[],
  tracker = new OffsetTracker(),
): OffsetTracker {
  for (const offset of offsets) tracker.delivered(partition, offset);
  return tracker;
}

describe('OffsetTracker', () => {
  test('a partition never delivered has no commit point', () => {
    const tracker = new OffsetTracker();
    assert.equal(tracker.commitPoint(0), undefined);
    assert.deepEqual(tracker.takeCommits(), []);
  });

  test('out-of-order settles commit only up to the lowest unsettled offset', () => {
    const tracker = deliveredTracker(0, [10, 11, 12, 13, 14]);
    assert.equal(tracker.commitPoint(0), 10);
    const steps: Array<[number, number]> = [
      // [settled offset, commit point after it]
      [13, 10],
      [11, 10],
      [10, 12],
      [14, 12],
      [12, 15],
    ];
    for (const [offset, point] of steps) {
      assert.equal(tracker.settled(0, offset), true);
      assert.equal(tracker.commitPoint(0), point, `after settling ${offset}`);
    }
  });

  test('the commit point is the next offset to read once everything is settled', () => {
    const tracker = deliveredTracker(3, [0, 1, 2]);
    for (const offset of [2, 1, 0]) tracker.settled(3, offset);
    assert.equal(tracker.commitPoint(3), 3);
    tracker.delivered(3, 3);
    assert.equal(tracker.commitPoint(3), 3);
    tracker.settled(3, 3);
    assert.equal(tracker.commitPoint(3), 4);
  });

  test('partitions are tracked apart', () => {
    const tracker = deliveredTracker(0, [0, 1]);
    deliveredTracker(1, [5, 6], tracker);
    tracker.settled(0, 0);
    tracker.settled(1, 6);
    assert.equal(tracker.commitPoint(0), 1);
    assert.equal(tracker.commitPoint(1), 5);
  });

  test('takeCommits returns only the points that moved since the last call', () => {
    const tracker = deliveredTracker(0, [0, 1, 2]);
    deliveredTracker(1, [0, 1], tracker);
    assert.deepEqual(tracker.takeCommits(), [
      [0, 0],
      [1, 0],
    ]);
    assert.deepEqual(tracker.takeCommits(), [], 'nothing moved');

    tracker.settled(0, 0);
    tracker.settled(1, 1);
    assert.deepEqual(tracker.takeCommits(), [[0, 1]], 'partition 1 is still held at 0');

    tracker.settled(0, 2);
    assert.deepEqual(tracker.takeCommits(), [], 'offset 1 still holds partition 0');

    tracker.settled(0, 1);
    tracker.settled(1, 0);
    assert.deepEqual(tracker.takeCommits(), [
      [0, 3],
      [1, 2],
    ]);
    assert.deepEqual(tracker.takeCommits(), []);
  });

  test('a second settle of one offset returns false and changes nothing', () => {
    const tracker = deliveredTracker(0, [0, 1]);
    assert.equal(tracker.settled(0, 0), true);
    assert.equal(tracker.settled(0, 0), false);
    assert.equal(tracker.pendingCount, 1);
    assert.equal(tracker.commitPoint(0), 1);
  });

  test('settling what was never delivered returns false', () => {
    const tracker = deliveredTracker(0, [0]);
    assert.equal(tracker.settled(0, 1), false);
    assert.equal(tracker.settled(7, 0), false);
    assert.equal(tracker.pendingCount, 1);
  });

  test('pendingCount counts unsettled deliveries over all partitions', () => {
    const tracker = new OffsetTracker();
    assert.equal(tracker.pendingCount, 0);
    deliveredTracker(0, [0, 1, 2], tracker);
    deliveredTracker(2, [8], tracker);
    assert.equal(tracker.pendingCount, 4);
    tracker.settled(0, 1);
    tracker.settled(2, 8);
    assert.equal(tracker.pendingCount, 2);
  });

  test('forget drops the named partitions only', () => {
    const tracker = deliveredTracker(0, [0, 1]);
    deliveredTracker(1, [0, 1], tracker);
    tracker.takeCommits();
    tracker.forget([1]);

    assert.equal(tracker.commitPoint(1), undefined);
    assert.equal(tracker.pendingCount, 2);
    assert.equal(tracker.settled(1, 0), false, 'a late settle of a forgotten partition is ignored');
    tracker.settled(0, 0);
    assert.deepEqual(tracker.takeCommits(), [[0, 1]]);
  });

  test('a partition forgotten and owned again reports its commit point afresh', () => {
    const tracker = deliveredTracker(0, [0, 1]);
    tracker.settled(0, 0);
    assert.deepEqual(tracker.takeCommits(), [[0, 1]]);
    tracker.forget([0]);
    deliveredTracker(0, [1, 2], tracker);
    assert.deepEqual(
      tracker.takeCommits(),
      [[0, 1]],
      'same point, but the new owner has not committed it',
    );
  });
});
