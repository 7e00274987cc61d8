import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FetchBuffer } from '../../src/kafka/fetch-buffer.ts';

/** `count` items `p<partition>-<i>` of `bytes` each, pushed in order. */
function fill(buffer: FetchBuffer<string>, partition: number, count: number, bytes = 10): void {
  for (let i = 0; i < count; i++) buffer.push(partition, `p${partition}-${i}`, bytes);
}

describe('FetchBuffer: fairness', () => {
  test('a take goes round the partitions one item each, each partition in the order pushed', () => {
    const buffer = new FetchBuffer<string>(1_000_000);
    fill(buffer, 0, 5);
    fill(buffer, 1, 2);
    fill(buffer, 2, 1);
    assert.deepEqual(buffer.take(6), ['p0-0', 'p1-0', 'p2-0', 'p0-1', 'p1-1', 'p0-2']);
    assert.deepEqual(buffer.take(10), ['p0-3', 'p0-4']);
    assert.deepEqual(buffer.take(10), []);
  });

  test('the turn carries over between takes: one at a time still alternates', () => {
    const buffer = new FetchBuffer<string>(1_000_000);
    fill(buffer, 0, 3);
    fill(buffer, 1, 3);
    const taken = [buffer.take(1), buffer.take(1), buffer.take(1), buffer.take(1)].flat();
    assert.deepEqual(taken, ['p0-0', 'p1-0', 'p0-1', 'p1-1']);
  });

  test('a deep backlog on one partition does not starve the others', () => {
    const buffer = new FetchBuffer<string>(Number.MAX_SAFE_INTEGER);
    fill(buffer, 0, 10_000);
    fill(buffer, 1, 50);
    fill(buffer, 2, 50);
    const first = buffer.take(150);
    const perPartition = [0, 1, 2].map((p) => first.filter((i) => i.startsWith(`p${p}-`)).length);
    assert.deepEqual(perPartition, [50, 50, 50]);
  });

  test('a partition that gets items again waits its turn behind those already waiting', () => {
    const buffer = new FetchBuffer<string>(1_000_000);
    fill(buffer, 0, 2);
    fill(buffer, 1, 2);
    assert.deepEqual(buffer.take(1), ['p0-0']);
    buffer.push(2, 'p2-0', 10);
    assert.deepEqual(buffer.take(4), ['p1-0', 'p0-1', 'p2-0', 'p1-1']);
  });

  test('a partition emptied and filled again joins the round at its end', () => {
    const buffer = new FetchBuffer<string>(1_000_000);
    fill(buffer, 0, 1);
    fill(buffer, 1, 3);
    assert.deepEqual(buffer.take(2), ['p0-0', 'p1-0']);
    buffer.push(0, 'p0-again', 10);
    assert.deepEqual(buffer.take(3), ['p1-1', 'p0-again', 'p1-2']);
  });

  test('order within a partition holds across the internal compaction', () => {
    const buffer = new FetchBuffer<string>(Number.MAX_SAFE_INTEGER);
    fill(buffer, 0, 5000);
    const taken: string[] = [];
    for (let i = 0; i < 5000; i += 7) taken.push(...buffer.take(7));
    assert.deepEqual(
      taken,
      Array.from({ length: 5000 }, (_, i) => `p0-${i}`),
    );
    assert.equal(buffer.size, 0);
    assert.equal(buffer.bytes, 0);
  });
});

describe('FetchBuffer: the byte bound', () => {
  test('bytes and size count what is buffered; hasRoom turns false at the limit', () => {
    const buffer = new FetchBuffer<string>(100);
    assert.equal(buffer.hasRoom, true);
    fill(buffer, 0, 9, 10);
    assert.equal(buffer.bytes, 90);
    assert.equal(buffer.size, 9);
    assert.equal(buffer.hasRoom, true);
    buffer.push(1, 'p1-0', 10);
    assert.equal(buffer.bytes, 100);
    assert.equal(buffer.hasRoom, false, 'full at the limit');
    buffer.take(1);
    assert.equal(buffer.bytes, 90);
    assert.equal(buffer.hasRoom, true, 'room again once something was taken');
  });

  test('a reader that pushes only while there is room stays within the limit plus one item', () => {
    const buffer = new FetchBuffer<string>(1000);
    const sizes = [300, 1, 250, 700, 64, 999, 5, 120];
    let highest = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; buffer.hasRoom; i++) {
        buffer.push(i % 4, `r${round}-${i}`, sizes[(round + i) % sizes.length]!);
        highest = Math.max(highest, buffer.bytes);
      }
      buffer.take(1 + (round % 5));
    }
    assert.ok(highest < 1000 + 999, `peak ${highest} bytes`);
    assert.ok(highest >= 1000, 'the buffer did reach its limit');
  });

  test('drop removes the named partitions with their bytes, and the others keep their turns', () => {
    const buffer = new FetchBuffer<string>(1_000_000);
    fill(buffer, 0, 3, 10);
    fill(buffer, 1, 3, 20);
    fill(buffer, 2, 3, 30);
    assert.deepEqual(buffer.take(2), ['p0-0', 'p1-0']);
    buffer.drop([1, 7]);
    assert.equal(buffer.size, 5);
    assert.equal(buffer.bytes, 2 * 10 + 3 * 30);
    assert.deepEqual(buffer.take(5), ['p2-0', 'p0-1', 'p2-1', 'p0-2', 'p2-2']);
    fill(buffer, 3, 2);
    buffer.clear();
    assert.equal(buffer.size, 0);
    assert.equal(buffer.bytes, 0);
    assert.deepEqual(buffer.take(3), []);
  });
});
