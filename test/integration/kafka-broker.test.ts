import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Consumer, MessagesStreamModes, murmur2, stringDeserializers } from '@platformatic/kafka';
import type { BrokerMessage, Delivery, Subscription } from '../../src/core/broker.ts';
import { isYadtqError } from '../../src/core/errors.ts';
import { KafkaBroker } from '../../src/kafka/kafka-broker.ts';
import type { KafkaBrokerOptions } from '../../src/kafka/options.ts';
import { oneByOne } from '../deliveries.ts';

const BROKERS = (process.env.YADTQ_KAFKA_BROKERS ?? '127.0.0.1:29092').split(',');

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const resource of open.reverse()) await resource.close().catch(() => {});
});

/** A broker on a topic and group of its own; closed after the suite. */
function makeBroker(options: KafkaBrokerOptions = {}): KafkaBroker {
  const id = randomUUID().slice(0, 8);
  const broker = new KafkaBroker({
    brokers: BROKERS,
    topic: `yadtq-test-${id}`,
    groupId: `yadtq-test-group-${id}`,
    sessionTimeoutMs: 3000,
    heartbeatIntervalMs: 300,
    commitIntervalMs: 100,
    ...options,
  });
  open.push(broker);
  return broker;
}

async function subscribe(broker: KafkaBroker, memberId: string): Promise<Subscription> {
  const subscription = await broker.subscribe(memberId);
  open.push(subscription);
  return subscription;
}

/** Pulls deliveries into `into` until the subscription closes, settling them unless told not to. */
async function drain(subscription: Subscription, into: Delivery[], settle = true): Promise<void> {
  for await (const delivery of oneByOne(subscription)) {
    into.push(delivery);
    if (settle) delivery.settle();
  }
}

/** Pulls exactly `count` deliveries (without settling), failing after `ms`. */
async function take(subscription: Subscription, count: number, ms = 15_000): Promise<Delivery[]> {
  const taken: Delivery[] = [];
  const iterator = oneByOne(subscription);
  const timeout = within(ms);
  try {
    while (taken.length < count) {
      const next = await Promise.race([iterator.next(), timeout.expired]);
      if (next === TIMEOUT)
        assert.fail(`got ${taken.length} of ${count} deliveries within ${ms} ms`);
      if (next.done) assert.fail(`iteration ended after ${taken.length} of ${count} deliveries`);
      taken.push(next.value);
    }
  } finally {
    timeout.cancel();
  }
  return taken;
}

const TIMEOUT = Symbol('timeout');

/** A promise of {@link TIMEOUT} after `ms`, whose timer can be cancelled. */
function within(ms: number): { expired: Promise<typeof TIMEOUT>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Kafka's (Java client's) default partitioner: positive murmur2 of the key, modulo partitions. */
function partitionOf(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

function messages(count: number, prefix = 'm'): BrokerMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-key-${i}`,
    value: JSON.stringify({ i, prefix }),
    headers: { 'x-index': String(i), 'x-prefix': prefix },
  }));
}

// Under a loaded machine a group join or the first fetch after a split has taken up to
// ~58 s (seen in 3 of about 10 full runs beside other agents' work, never alone): the
// split test waits up to 60 s and reports the time; the suite's bound leaves room for it
// so one slow join does not cancel the tests after it.
describe('KafkaBroker', { timeout: 180_000 }, () => {
  test('produced messages are delivered with key, value, headers, partition and offset', async () => {
    const broker = makeBroker();
    const sent = messages(40);
    await broker.produce('tasks', sent);
    const subscriber = await subscribe(broker, 'member-a');
    const got = await take(subscriber, sent.length);
    for (const delivery of got) delivery.settle();
    assert.deepEqual(subscriber.assignment(), [0, 1, 2, 3]);
    const byKey = new Map(got.map((d) => [d.key, d]));
    for (const message of sent) {
      const delivery = byKey.get(message.key);
      assert.ok(delivery, `missing ${message.key}`);
      assert.equal(delivery.value, message.value);
      assert.deepEqual(delivery.headers, message.headers);
      assert.equal(delivery.partition, partitionOf(message.key, 4));
    }
    for (const partition of [0, 1, 2, 3]) {
      const offsets = got.filter((d) => d.partition === partition).map((d) => d.offset);
      assert.deepEqual(offsets, [...offsets.keys()], `partition ${partition} offsets`);
    }
    await subscriber.close();
  });

  test('out-of-order settles commit only up to the lowest unsettled delivery', async () => {
    const broker = makeBroker({ partitions: 1 });
    await broker.produce('tasks', messages(10));
    const first = await subscribe(broker, 'member-a');
    const got = await take(first, 10);
    assert.deepEqual(
      got.map((d) => d.offset),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (const offset of [9, 8, 7, 5, 4, 2, 1, 0]) got[offset]?.settle();
    got[0]?.settle(); // a second settle does nothing
    await sleep(300);
    await first.close();

    const second = await subscribe(broker, 'member-b');
    const again = await take(second, 7);
    assert.deepEqual(
      again.map((d) => d.offset),
      [3, 4, 5, 6, 7, 8, 9],
    );
    for (const delivery of again) delivery.settle();
    await second.close();

    const third = await subscribe(broker, 'member-c');
    const iterator = oneByOne(third);
    const next = iterator.next();
    const quiet = within(1500);
    const extra = await Promise.race([next, quiet.expired]);
    assert.equal(extra, TIMEOUT, 'everything settled before close is committed');
    await third.close();
    assert.deepEqual(await next, { done: true, value: undefined });
  });

  test('two members split the partitions and together receive everything once', async (t) => {
    const broker = makeBroker();
    const a = await subscribe(broker, 'member-a');
    const b = await subscribe(broker, 'member-b');
    const started = Date.now();
    await waitFor('both members to own partitions', () => {
      const [ownA, ownB] = [a.assignment(), b.assignment()];
      return ownA.length > 0 && ownB.length > 0 && ownA.length + ownB.length === 4;
    });
    const ownA = a.assignment();
    const ownB = b.assignment();
    t.diagnostic(`rebalance to two members took ${Date.now() - started} ms: ${ownA} | ${ownB}`);
    assert.deepEqual([...ownA, ...ownB].sort(), [0, 1, 2, 3]);

    const sent = messages(80);
    await broker.produce('tasks', sent);
    const gotA: Delivery[] = [];
    const gotB: Delivery[] = [];
    const drains = [drain(a, gotA), drain(b, gotB)];
    // Seen once in a full suite run on the consumer protocol: one member idle for over
    // 20 s right after the split (not reproduced since); allow for it, and report the time.
    const producedAt = Date.now();
    await waitFor('all messages', () => gotA.length + gotB.length >= sent.length, 60_000);
    t.diagnostic(
      `all ${sent.length} messages arrived ${Date.now() - producedAt} ms after the produce`,
    );
    await sleep(300);
    await Promise.all([a.close(), b.close()]);
    await Promise.all(drains);
    assert.ok(gotA.length > 0 && gotB.length > 0, `split ${gotA.length}/${gotB.length}`);
    assert.ok(gotA.every((d) => ownA.includes(d.partition)));
    assert.ok(gotB.every((d) => ownB.includes(d.partition)));
    const keys = [...gotA, ...gotB].map((d) => d.key).sort();
    assert.deepEqual(keys, sent.map((m) => m.key).sort());
  });

  test('a rebalance hands unsettled deliveries of moved partitions to the new owner', async (t) => {
    // No periodic commit runs during the test: what is settled is committed as the rebalance starts.
    const broker = makeBroker({ commitIntervalMs: 60_000 });
    const sent = messages(40);
    await broker.produce('tasks', sent);
    const a = await subscribe(broker, 'member-a');
    const held = await take(a, sent.length);
    // Settle half of each partition's deliveries (the lower offsets), hold the rest.
    const settledKeys = new Set<string | null>();
    for (const delivery of held) {
      const count = held.filter((d) => d.partition === delivery.partition).length;
      if (delivery.offset < count / 2) {
        delivery.settle();
        settledKeys.add(delivery.key);
      }
    }

    const started = Date.now();
    const b = await subscribe(broker, 'member-b');
    await waitFor('partitions to move to member-b', () => b.assignment().length > 0);
    t.diagnostic(`partitions moved ${Date.now() - started} ms after member-b subscribed`);
    const moved = b.assignment();
    assert.ok(moved.length > 0);
    assert.deepEqual([...a.assignment(), ...moved].sort(), [0, 1, 2, 3]);
    // Settling deliveries of partitions this member lost is harmless.
    for (const delivery of held) delivery.settle();

    const expected = held
      .filter((d) => moved.includes(d.partition) && !settledKeys.has(d.key))
      .map((d) => d.key)
      .sort();
    const redelivered = await take(b, expected.length);
    for (const delivery of redelivered) delivery.settle();
    assert.deepEqual(redelivered.map((d) => d.key).sort(), expected);
    await Promise.all([a.close(), b.close()]);
  });

  test("the dead-letter destination writes to '<topic>.dlq'", async () => {
    const topic = `yadtq-test-${randomUUID().slice(0, 8)}`;
    const broker = makeBroker({ topic });
    await broker.produce('dead-letter', [
      { key: 'bad', value: 'not json', headers: { 'x-reason': 'invalid' } },
    ]);
    await broker.produce('tasks', [{ key: 'good', value: '{}' }]);
    assert.equal(broker.topicOf('dead-letter'), `${topic}.dlq`);

    const reader = new Consumer<string, string, string, string>({
      clientId: 'dlq-reader',
      groupId: `dlq-reader-${randomUUID().slice(0, 8)}`,
      bootstrapBrokers: BROKERS,
      deserializers: stringDeserializers,
      autocommit: false,
    });
    open.push({ close: () => reader.close(true) });
    const stream = await reader.consume({
      topics: [`${topic}.dlq`],
      mode: MessagesStreamModes.EARLIEST,
    });
    for await (const dead of stream) {
      assert.equal(dead.key, 'bad');
      assert.equal(dead.value, 'not json');
      assert.equal(dead.headers.get('x-reason'), 'invalid');
      break;
    }

    const subscriber = await subscribe(broker, 'member-a');
    const [task] = await take(subscriber, 1);
    assert.equal(task?.key, 'good');
    await subscriber.close();
  });

  test('close() ends a pending iteration promptly', async () => {
    const broker = makeBroker();
    const subscriber = await subscribe(broker, 'member-a');
    const iterator = oneByOne(subscriber);
    const pending = iterator.next();
    await sleep(200);
    const started = Date.now();
    await subscriber.close();
    assert.deepEqual(await pending, { done: true, value: undefined });
    const took = Date.now() - started;
    assert.ok(took < 2000, `close took ${took} ms`);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  test('an unreachable Kafka fails with BROKER_UNAVAILABLE within connectTimeoutMs', async () => {
    const broker = makeBroker({ brokers: ['127.0.0.1:1'], connectTimeoutMs: 1500 });
    for (const attempt of [
      () => broker.produce('tasks', messages(1)),
      () => broker.subscribe('member-a'),
    ]) {
      const started = Date.now();
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(isYadtqError(error, 'BROKER_UNAVAILABLE'), String(error));
        assert.equal(error.retriable, true);
        assert.match(error.message, /cannot reach Kafka at 127\.0\.0\.1:1/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took <= 1500 + 500, `failed after ${took} ms`);
    }
  });

  test('bad options throw INVALID_OPTION naming the option', () => {
    const cases: Array<[KafkaBrokerOptions, string]> = [
      [{ brokers: [] }, 'brokers'],
      [{ brokers: ['no-port'] }, 'brokers'],
      [{ topic: 'has space' }, 'topic'],
      [{ topic: '' }, 'topic'],
      [{ partitions: 0 }, 'partitions'],
      [{ partitions: 1.5 }, 'partitions'],
      [{ replicationFactor: -1 }, 'replicationFactor'],
      [{ replicationFactor: 'three' as unknown as number }, 'replicationFactor'],
      [{ minInSyncReplicas: 0 }, 'minInSyncReplicas'],
      [{ replicationFactor: 2, minInSyncReplicas: 3 }, 'minInSyncReplicas'],
      [{ logger: {} as KafkaBrokerOptions['logger'] }, 'logger'],
      [{ groupId: '' }, 'groupId'],
      [{ clientId: 'a b' }, 'clientId'],
      [{ sessionTimeoutMs: 0 }, 'sessionTimeoutMs'],
      [{ sessionTimeoutMs: 1000, heartbeatIntervalMs: 1000 }, 'heartbeatIntervalMs'],
      [{ commitIntervalMs: Number.NaN }, 'commitIntervalMs'],
      [{ connectTimeoutMs: '10' as unknown as number }, 'connectTimeoutMs'],
      [{ sasl: {} as KafkaBrokerOptions['sasl'] }, 'sasl'],
    ];
    for (const [options, name] of cases) {
      assert.throws(
        () => new KafkaBroker(options),
        (error: unknown) =>
          isYadtqError(error, 'INVALID_OPTION') && error.message.includes(`"${name}"`),
        `${JSON.stringify(options)} should name ${name}`,
      );
    }
  });
});
