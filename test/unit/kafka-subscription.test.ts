import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { AuthenticationError, ProtocolError } from '@platformatic/kafka';
import { isYadtqError } from '../../src/core/errors.ts';
import { type GroupMember, KafkaSubscription } from '../../src/kafka/kafka-subscription.ts';
import { oneByOne } from '../deliveries.ts';

// KafkaSubscription alone, on a fake consumer and stream (the module's one collaborator):
// what it does when the consumer's stream fails. Real leader moves are in
// test/integration/kafka-cluster.test.ts.

const TOPIC = 't';

/** A message of partition 0 as the client's stream hands it out. */
function messageAt(offset: number) {
  return {
    topic: TOPIC,
    partition: 0,
    offset: BigInt(offset),
    key: `k${offset}`,
    value: `v${offset}`,
    headerEntries: [],
    metadata: { consumer: { generationId: 1 } },
  };
}

/** A member that owns partition 0 and yields `offsets`, then fails with `failure` (or waits). */
function fakeMember(offsets: number[], failure?: Error) {
  const consumer = Object.assign(new EventEmitter(), {
    assignments: [{ topic: TOPIC, partitions: [0] }],
    generationId: 1,
    closed: false,
    isActive: () => true,
    commit: async () => {},
    close: async () => {
      consumer.closed = true;
    },
  });
  // A real object-mode Readable, as the client's stream is: what a fetch returned waits
  // in it, and `failure` destroys it once those are read, on a later turn of the event
  // loop (a fetch failing after the one that brought them), so they are handed out first.
  const queue = [...offsets];
  const stream = Object.assign(
    new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        const offset = queue.shift();
        if (offset !== undefined) {
          this.push(messageAt(offset));
        } else if (failure !== undefined) {
          setImmediate(() => this.destroy(failure));
        }
      },
    }),
    { offsetsToCommit: new Map(), close: async () => {} },
  );
  return { consumer, stream } as unknown as GroupMember & { consumer: { closed: boolean } };
}

const options = {
  topic: TOPIC,
  commitIntervalMs: 1000,
  closeTimeoutMs: 500,
  fetchAheadBytes: 1024,
};

test('a consumer whose stream fails is replaced by a new member; what it handed out no longer counts', async () => {
  const first = fakeMember([0, 1], new ProtocolError('NOT_LEADER_OR_FOLLOWER'));
  // The new member starts again from the last commit (none): offsets 0 and 1 come again.
  const second = fakeMember([0, 1, 2]);
  let joins = 0;
  const subscription = new KafkaSubscription(first, {
    ...options,
    rejoin: async () => {
      joins++;
      return second;
    },
  });
  const iterator = oneByOne(subscription);
  const a = (await iterator.next()).value;
  const b = (await iterator.next()).value;
  assert.deepEqual([a.offset, b.offset], [0, 1]);
  const again = [(await iterator.next()).value, (await iterator.next()).value];
  assert.deepEqual(
    again.map((d) => d.offset),
    [0, 1],
  );
  assert.equal(joins, 1);
  assert.equal(subscription.rejoins, 1);
  assert.ok(first.consumer.closed, 'the failed consumer was closed');
  assert.equal(a.isOwned(), false, 'a delivery of the failed member is not owned any more');
  assert.equal(again[0].isOwned(), true);
  assert.equal((await iterator.next()).value.offset, 2);
  await subscription.close();
});

test('without rejoin, or for an error trying again cannot help, the failure ends the iteration', async () => {
  const lone = new KafkaSubscription(fakeMember([], new Error('connection reset')), options);
  await assert.rejects(oneByOne(lone).next(), (error) => {
    assert.ok(isYadtqError(error, 'BROKER_UNAVAILABLE'), String(error));
    return true;
  });
  await lone.close();

  let joins = 0;
  const refused = new AuthenticationError('SASL authentication failed');
  const hopeless = new KafkaSubscription(fakeMember([], refused), {
    ...options,
    rejoin: async () => {
      joins++;
      return fakeMember([]);
    },
  });
  await assert.rejects(oneByOne(hopeless).next(), (error) => {
    assert.ok(isYadtqError(error, 'BROKER_UNAVAILABLE') && !error.retriable, String(error));
    assert.match(error.message, /authentication failed/);
    return true;
  });
  assert.equal(joins, 0);
  await hopeless.close();
});

test('messages of a partition assigned since the subscription last looked are handed out, not dropped', async () => {
  const member = fakeMember([]);
  const consumer = member.consumer as unknown as { assignments: unknown[] };
  consumer.assignments = [];
  const subscription = new KafkaSubscription(member, options);
  assert.deepEqual(subscription.assignment(), []);
  // The client fetches a partition once it is assigned; its first fetch brings 0 and 1.
  consumer.assignments = [{ topic: TOPIC, partitions: [0] }];
  member.stream.push(messageAt(0));
  member.stream.push(messageAt(1));
  // They are read ahead as they arrive, before the worker asks for them.
  await new Promise((resolve) => setImmediate(resolve));
  try {
    const taken = await Promise.race([
      subscription.take(2),
      new Promise<'none'>((resolve) => setTimeout(() => resolve('none'), 500)),
    ]);
    assert.notEqual(taken, 'none', 'the messages were dropped');
    assert.deepEqual(
      (taken as readonly { offset: number }[]).map((d) => d.offset),
      [0, 1],
    );
  } finally {
    await subscription.close();
  }
});
