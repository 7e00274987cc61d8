// Fetching ahead on real Kafka (+ Redis for the worker): with a backlog the worker's slots
// stay full, what a subscription hands out is fair across partitions however deep one
// partition's backlog is, and what it holds ahead stays within its byte bound plus one
// fetch. Supply is judged by counts (handlers running, deliveries per partition, bytes
// held), never by how long something took.
import assert from 'node:assert/strict';
import { subscribe as subscribeChannel, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@platformatic/kafka';
import type { BrokerMessage, Delivery } from '../../src/core/broker.ts';
import { defineTask, TaskClient, TaskWorker } from '../../src/index.ts';
import { KafkaBroker } from '../../src/kafka/kafka-broker.ts';
import { KAFKA_BROKERS, kafkaRedisBackend, uniqueNames } from './services.ts';

/** A broker on a topic and group of its own. */
function makeBroker(fetchAheadBytes?: number): KafkaBroker {
  const names = uniqueNames('fetch-ahead');
  return new KafkaBroker({
    brokers: KAFKA_BROKERS.split(','),
    topic: names.topic,
    groupId: names.groupId,
    partitions: 4,
    commitIntervalMs: 100,
    ...(fetchAheadBytes === undefined ? {} : { fetchAheadBytes }),
  });
}

/** `count` messages of about `bytes` each for `partition`. */
function messages(partition: number, count: number, bytes: number): BrokerMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `p${partition}-${i}`,
    value: `${partition}:${i}:`.padEnd(bytes, 'x'),
    partition,
  }));
}

/** Produces `all` in sends of `per` messages (small sends make small record batches). */
async function produceIn(broker: KafkaBroker, all: BrokerMessage[], per: number): Promise<void> {
  for (let i = 0; i < all.length; i += per) await broker.produce('tasks', all.slice(i, i + per));
}

/** The size the bound counts: key, value and headers. */
function sizeOf(message: Message<string, string, string, string>): number {
  let size = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [key, value] of message.headerEntries)
    size += (key?.length ?? 0) + (value?.length ?? 0);
  return size;
}

describe('fetching ahead', { timeout: 120_000 }, () => {
  test('with a backlog and slow handlers, at least 90 % of the slots run handlers', async (t) => {
    const concurrency = 20;
    const backend = await kafkaRedisBackend('fetch-ahead-supply');
    let running = 0;
    let done = 0;
    const slow = defineTask('slow', async (_n: number) => {
      running++;
      await sleep(400);
      running--;
      done++;
    });
    const worker = new TaskWorker({
      id: `fetch-ahead-${Date.now().toString(36)}`,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [slow],
      concurrency,
      monitor: false,
    });
    const total = concurrency * 12;
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      await client.submitMany(
        slow,
        Array.from({ length: total }, (_, i) => i),
        { cache: false },
      );
      await worker.start();
      const samples: number[] = [];
      // Sampled from the first handler start while a full round of tasks is still waiting.
      while (done < total - 2 * concurrency) {
        if (running > 0 || done > 0) samples.push(running);
        await sleep(25);
      }
      const mean = samples.reduce((sum, s) => sum + s, 0) / samples.length;
      const low = samples.filter((s) => s < 0.9 * concurrency).length;
      t.diagnostic(
        `${samples.length} samples: mean ${mean.toFixed(1)} of ${concurrency} handlers running, ${low} below 90 %`,
      );
      assert.ok(samples.length >= 20, `only ${samples.length} samples`);
      assert.ok(mean >= 0.9 * concurrency, `mean ${mean.toFixed(1)} handlers of ${concurrency}`);
    } finally {
      await worker.stop();
      await backend.close();
    }
  });

  test('a deep backlog on one partition does not starve the others in what is handed out', async (t) => {
    const broker = makeBroker(64 * 1024);
    try {
      // Partition 0 holds over ten times the read-ahead; 1-3 hold a few messages each. The
      // sends are small enough for every record batch to fit a partition's share of a
      // fetch (16 KiB here): Kafka returns a larger one only for the first partition asked.
      await produceIn(broker, messages(0, 3000, 250), 50);
      for (const partition of [1, 2, 3]) await produceIn(broker, messages(partition, 30, 250), 30);
      const subscription = await broker.subscribe('member-a');
      const handedOut: Delivery[] = [];
      const firstOfOthers = new Map<number, number>();
      while (handedOut.length < 400) {
        for (const delivery of await subscription.take(10)) {
          handedOut.push(delivery);
          if (delivery.partition !== 0 && !firstOfOthers.has(delivery.partition))
            firstOfOthers.set(delivery.partition, handedOut.length);
          delivery.settle();
        }
      }
      const counts = [0, 1, 2, 3].map(
        (p) => handedOut.slice(0, 120).filter((d) => d.partition === p).length,
      );
      t.diagnostic(`of the first 120 handed out, per partition: ${counts.join(' / ')}`);
      for (const partition of [1, 2, 3]) {
        assert.equal(
          handedOut.filter((d) => d.partition === partition).length,
          30,
          `all of partition ${partition} within the first 400`,
        );
        assert.ok(
          counts[partition]! >= 25,
          `partition ${partition} had ${counts[partition]} of the first 120`,
        );
      }
      await subscription.close();
    } finally {
      await broker.close();
    }
  });

  test('what a subscription holds ahead never exceeds its bound plus one fetch, and does reach the bound', async (t) => {
    const bound = 64 * 1024;
    const broker = makeBroker(bound);
    let received = 0;
    let handedOut = 0;
    let peak = 0;
    let topic = '';
    // Counted as each message arrives from Kafka, so the peak is seen, not sampled.
    const onReceive = (context: unknown) => {
      const message = (context as { result?: Message<string, string, string, string> }).result;
      if (message?.topic !== topic) return;
      received += sizeOf(message);
      peak = Math.max(peak, received - handedOut);
    };
    const channel = 'tracing:plt:kafka:consumer:receives:asyncStart';
    subscribeChannel(channel, onReceive);
    try {
      topic = broker.topicOf('tasks');
      // About 1 MB in all, in sends small enough that no record batch exceeds a partition's
      // share of a fetch (Kafka returns a larger first batch whole, past any limit).
      const all = [0, 1, 2, 3].flatMap((p) => messages(p, 1000, 250));
      await produceIn(broker, all, 40);
      const subscription = await broker.subscribe('member-a');
      let taken = 0;
      while (taken < all.length) {
        for (const delivery of await subscription.take(25)) {
          handedOut += delivery.value.length + (delivery.key?.length ?? 0);
          taken++;
          delivery.settle();
        }
        // A slow consumer: the reader must stop fetching, not buffer the backlog.
        await sleep(10);
      }
      t.diagnostic(`peak held ahead ${peak} bytes for a bound of ${bound} (+ one fetch ${bound})`);
      assert.ok(peak <= 2 * bound, `held ${peak} bytes ahead, over ${2 * bound}`);
      assert.ok(peak >= bound, `held at most ${peak} bytes ahead: no read-ahead to the bound`);
      await subscription.close();
    } finally {
      unsubscribe(channel, onReceive);
      await broker.close();
    }
  });
});
