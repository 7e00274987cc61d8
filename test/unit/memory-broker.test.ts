import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrokerMessage, Delivery, Subscription } from '../../src/core/broker.ts';
import { isYadtqError } from '../../src/core/errors.ts';
import { MemoryBroker } from '../../src/memory/memory-broker.ts';
import { oneByOne } from '../deliveries.ts';

const IDLE = Symbol('idle');

/** Resolves like `promise`, or fails the test after `ms` instead of hanging it. */
async function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pulls deliveries from a subscription one at a time, and can tell when none is waiting. */
function reader(subscription: Subscription) {
  const iterator = oneByOne(subscription);
  let pending: Promise<IteratorResult<Delivery>> | null = null;
  const pull = () => {
    pending ??= iterator.next();
    return pending;
  };
  return {
    /** The next `count` deliveries; fails if the iteration ends first. */
    async take(count: number): Promise<Delivery[]> {
      const taken: Delivery[] = [];
      while (taken.length < count) {
        const next = await within(pull(), `delivery ${taken.length + 1} of ${count}`);
        pending = null;
        assert.ok(!next.done, `the iteration ended after ${taken.length} of ${count} deliveries`);
        taken.push(next.value);
      }
      return taken;
    },
    /** Asserts nothing is delivered within a short while (the pull stays open for later). */
    async assertIdle(): Promise<void> {
      const next = await Promise.race([
        pull(),
        new Promise<typeof IDLE>((r) => setTimeout(() => r(IDLE), 20)),
      ]);
      if (next === IDLE) return;
      assert.fail(
        `expected no delivery, got ${next.done ? 'the end' : JSON.stringify(next.value.value)}`,
      );
    },
    /** Resolves with whether the iteration has ended. */
    async ended(): Promise<boolean> {
      const next = await within(pull(), 'the end of the iteration');
      return next.done === true;
    },
  };
}

const messages = (prefix: string, count: number): BrokerMessage[] =>
  Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: `${prefix}-${i}` }));

describe('MemoryBroker: partitioning', () => {
  test('messages with one key land in one partition, in the order produced', async () => {
    const broker = new MemoryBroker({ partitions: 4 });
    const produced: BrokerMessage[] = [];
    for (let i = 0; i < 6; i++)
      produced.push({ key: 'order-42', value: `step-${i}` }, ...messages(`noise${i}`, 3));
    await broker.produce('tasks', produced);

    const ofKey = broker.messages('tasks').filter((m) => m.key === 'order-42');
    assert.equal(new Set(ofKey.map((m) => m.partition)).size, 1);
    assert.deepEqual(
      ofKey.map((m) => m.value),
      ['step-0', 'step-1', 'step-2', 'step-3', 'step-4', 'step-5'],
    );
    assert.ok(ofKey.every((m, i) => i === 0 || m.offset > ofKey[i - 1]!.offset));

    const subscription = await broker.subscribe('member');
    const delivered = await reader(subscription).take(produced.length);
    assert.deepEqual(
      delivered.filter((d) => d.key === 'order-42').map((d) => d.value),
      ['step-0', 'step-1', 'step-2', 'step-3', 'step-4', 'step-5'],
    );
    await broker.close();
  });

  test('different keys spread over the partitions', async () => {
    const broker = new MemoryBroker({ partitions: 4 });
    await broker.produce('tasks', messages('key', 40));
    const used = new Set(broker.messages('tasks').map((m) => m.partition));
    assert.deepEqual([...used].sort(), [0, 1, 2, 3]);
  });

  test('offsets count up from 0 in each partition', async () => {
    const broker = new MemoryBroker({ partitions: 3 });
    await broker.produce('tasks', messages('key', 30));
    for (let partition = 0; partition < 3; partition++) {
      const offsets = broker
        .messages('tasks')
        .filter((m) => m.partition === partition)
        .map((m) => m.offset);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
      );
    }
  });

  test('the default is DEFAULTS.partitions (4); a bad count is INVALID_OPTION naming it', () => {
    assert.equal(new MemoryBroker().partitions, 4);
    for (const partitions of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new MemoryBroker({ partitions }),
        (error) =>
          isYadtqError(error, 'INVALID_OPTION') && error.message.includes(`got ${partitions}`),
        `partitions ${partitions}`,
      );
    }
  });
});

describe('MemoryBroker: the consumer group', () => {
  test('two subscriptions split the partitions between them', async () => {
    const broker = new MemoryBroker({ partitions: 4 });
    const a = await broker.subscribe('a');
    assert.deepEqual([...a.assignment()].sort(), [0, 1, 2, 3]);
    const b = await broker.subscribe('b');

    const owned = [...a.assignment(), ...b.assignment()];
    assert.ok(a.assignment().length > 0 && b.assignment().length > 0);
    assert.deepEqual([...owned].sort(), [0, 1, 2, 3], 'disjoint and complete');

    await broker.produce('tasks', messages('task', 40));
    const countIn = (parts: readonly number[]) =>
      broker.messages('tasks').filter((m) => parts.includes(m.partition)).length;
    const fromA = await reader(a).take(countIn(a.assignment()));
    const fromB = await reader(b).take(countIn(b.assignment()));
    assert.ok(fromA.every((d) => a.assignment().includes(d.partition)));
    assert.ok(fromB.every((d) => b.assignment().includes(d.partition)));
    const all = new Set([...fromA, ...fromB].map((d) => d.value));
    assert.equal(all.size, 40, 'every message delivered once');
    await broker.close();
  });

  test('unsettled deliveries go to another member after their subscription closes; settled ones do not', async () => {
    const broker = new MemoryBroker({ partitions: 1 });
    const a = await broker.subscribe('a');
    const b = await broker.subscribe('b');
    assert.deepEqual(b.assignment(), [], 'one partition, and a owns it');
    await broker.produce('tasks', messages('task', 3));

    const [first, second, third] = await reader(a).take(3);
    first!.settle();
    second!.settle();
    const readB = reader(b);
    await readB.assertIdle();
    await a.close();

    assert.deepEqual(b.assignment(), [0]);
    const [again] = await readB.take(1);
    assert.equal(again!.offset, third!.offset);
    assert.equal(again!.value, 'task-2');
    await readB.assertIdle();
    await broker.close();
  });

  test('the commit stops at the lowest unsettled offset, so later settled ones come again too', async () => {
    const broker = new MemoryBroker({ partitions: 1 });
    const a = await broker.subscribe('a');
    await broker.produce('tasks', messages('task', 3));
    const [first, , third] = await reader(a).take(3);
    first!.settle();
    third!.settle();
    await a.close();

    const b = await broker.subscribe('b');
    const again = await reader(b).take(2);
    assert.deepEqual(
      again.map((d) => d.value),
      ['task-1', 'task-2'],
    );
    await broker.close();
  });

  test('settling twice is harmless', async () => {
    const broker = new MemoryBroker({ partitions: 1 });
    const a = await broker.subscribe('a');
    await broker.produce('tasks', messages('task', 2));
    const [first] = await reader(a).take(2);
    first!.settle();
    first!.settle();
    await a.close();
    const [again] = await reader(await broker.subscribe('b')).take(1);
    assert.equal(again!.value, 'task-1');
    await broker.close();
  });

  test('a partition moved by a rebalance is read again from its committed offset', async () => {
    const broker = new MemoryBroker({ partitions: 2 });
    const a = await broker.subscribe('a');
    await broker.produce('tasks', messages('task', 20));
    const readA = reader(a);
    const taken = await readA.take(20);
    const ofPartition = (partition: number | undefined) =>
      taken.filter((d) => d.partition === partition);
    // Settle the first two deliveries of each partition; the rest stay in flight.
    for (const partition of [0, 1])
      for (const delivery of ofPartition(partition).slice(0, 2)) delivery.settle();

    const b = await broker.subscribe('b');
    assert.equal(b.assignment().length, 1);
    const expected = ofPartition(b.assignment()[0])
      .slice(2)
      .map((d) => d.value);
    assert.ok(expected.length > 0);
    const readB = reader(b);
    assert.deepEqual(
      (await readB.take(expected.length)).map((d) => d.value),
      expected,
    );
    await readB.assertIdle();
    await readA.assertIdle();
    await broker.close();
  });
});

describe('MemoryBroker: dead letters and closing', () => {
  test('the dead-letter destination is kept apart and never delivered', async () => {
    const broker = new MemoryBroker({ partitions: 2 });
    const subscription = await broker.subscribe('a');
    const headers = { 'yadtq-error': 'invalid task message: not JSON' };
    await broker.produce('dead-letter', [{ key: 'bad', value: 'not json', headers }]);

    assert.deepEqual(
      broker.messages('dead-letter').map((m) => [m.key, m.value, m.headers]),
      [['bad', 'not json', headers]],
    );
    assert.deepEqual(broker.messages('tasks'), []);
    const read = reader(subscription);
    await read.assertIdle();

    await broker.produce('tasks', [{ key: 'good', value: 'task' }]);
    const [delivery] = await read.take(1);
    assert.equal(delivery!.value, 'task');
    assert.equal(broker.messages('dead-letter').length, 1);
    await broker.close();
  });

  test('headers are copied on produce and handed out with the delivery', async () => {
    const broker = new MemoryBroker({ partitions: 1 });
    const headers: Record<string, string> = { trace: 'abc' };
    await broker.produce('tasks', [{ key: 'k', value: 'v', headers }]);
    headers.trace = 'changed';
    const [delivery] = await reader(await broker.subscribe('a')).take(1);
    assert.deepEqual(delivery!.headers, { trace: 'abc' });
    assert.deepEqual([delivery!.key, delivery!.partition, delivery!.offset], ['k', 0, 0]);
    await broker.close();
  });

  test('closing a subscription ends an iteration that is waiting', async () => {
    const broker = new MemoryBroker({ partitions: 2 });
    const subscription = await broker.subscribe('a');
    const read = reader(subscription);
    await read.assertIdle();
    await subscription.close();
    assert.equal(await read.ended(), true);
    assert.deepEqual(
      (await broker.subscribe('b')).assignment().length,
      2,
      'the closed member left the group',
    );
    await broker.close();
  });

  test('closing the broker ends every waiting iteration, and a for-await loop returns', async () => {
    const broker = new MemoryBroker({ partitions: 2 });
    const subscriptions = [await broker.subscribe('a'), await broker.subscribe('b')];
    const loops = subscriptions.map(async (subscription) => {
      let count = 0;
      for await (const _delivery of oneByOne(subscription)) count++;
      return count;
    });
    await new Promise((r) => setTimeout(r, 10));
    await broker.close();
    assert.deepEqual(await within(Promise.all(loops), 'the loops to return'), [0, 0]);
  });
});

describe('memory broker: the age of the backlog', () => {
  test('lag gives the age of the oldest uncommitted message per partition, none without backlog', async () => {
    const broker = new MemoryBroker({ partitions: 2 });
    await broker.produce('tasks', [{ key: 'x', value: 'first', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 60));
    await broker.produce('tasks', [{ key: 'y', value: 'second', partition: 0 }]);
    const lag = await broker.lag();
    assert.equal(lag.retentionMs, null, 'the memory log deletes nothing');
    const [p0, p1] = lag.partitions;
    assert.ok(
      p0!.oldestAgeMs! >= 50,
      `age ${p0!.oldestAgeMs}: the first message's, not the newest`,
    );
    assert.equal(p0!.nearRetention, false);
    assert.equal(p1!.oldestAgeMs, null);
    await broker.close();
  });
});
