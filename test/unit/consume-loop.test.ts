import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Delivery } from '../../src/core/broker.ts';
import { type ConsumeHooks, consumeDeliveries } from '../../src/core/worker/consume-loop.ts';

// The worker's consume loop alone, on a scripted subscription and worker.

function delivery(offset: number, owned = () => true): Delivery {
  return {
    key: null,
    value: String(offset),
    headers: {},
    partition: 0,
    offset,
    settle: () => {},
    isOwned: owned,
  };
}

/** A worker with `concurrency` slots whose started tasks end when `finish` is called. */
function worker(concurrency: number) {
  let inFlight = 0;
  let running = true;
  let freed: (() => void) | undefined;
  const started: number[][] = [];
  const hooks: ConsumeHooks = {
    running: () => running,
    freeSlots: () => concurrency - inFlight,
    slotFreed: () =>
      new Promise<void>((resolve) => {
        freed = resolve;
      }),
    whenReachable: async () => {},
    offered: () => false,
    takeOffered: async () => {},
    start: (deliveries) => {
      inFlight += deliveries.length;
      started.push(deliveries.map((d) => d.offset));
    },
  };
  return {
    hooks,
    started,
    /** Ends `count` running tasks, or takes `count` slots for other work when negative. */
    finish(count: number) {
      inFlight -= count;
      freed?.();
    },
    stop() {
      running = false;
      freed?.();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('each take asks for the free slots, and each batch is started as one group', async () => {
  const asked: number[] = [];
  const batches = [[0, 1, 2], [3], [4, 5], []];
  const subscription = {
    take: async (max: number) => {
      asked.push(max);
      return (batches.shift() ?? []).slice(0, max).map((o) => delivery(o));
    },
  };
  const w = worker(3);
  const loop = consumeDeliveries(subscription, w.hooks);
  await tick();
  assert.deepEqual(asked, [3], 'no take while every slot is busy');
  w.finish(1);
  await tick();
  w.finish(2);
  await tick();
  w.finish(3);
  await loop;
  assert.deepEqual(asked, [3, 1, 2, 3]);
  assert.deepEqual(w.started, [[0, 1, 2], [3], [4, 5]]);
});

test('what exceeds the slots left when a batch arrives is held, started first, and dropped if no longer owned', async () => {
  let release!: (deliveries: Delivery[]) => void;
  let owned = true;
  const calls: number[] = [];
  const subscription = {
    take: (max: number) => {
      calls.push(max);
      if (calls.length === 1) return new Promise<Delivery[]>((resolve) => (release = resolve));
      return Promise.resolve([]);
    },
  };
  const w = worker(4);
  const loop = consumeDeliveries(subscription, w.hooks);
  await tick();
  // Two slots go to other work (recovered tasks) while the take waits.
  w.finish(-2);
  release([0, 1, 2, 3].map((o) => delivery(o, o === 3 ? () => owned : () => true)));
  await tick();
  assert.deepEqual(w.started, [[0, 1]]);
  w.finish(1);
  await tick();
  assert.deepEqual(w.started, [[0, 1], [2]], 'the held rest goes first, as slots free');
  owned = false;
  w.finish(1);
  await tick();
  assert.deepEqual(w.started, [[0, 1], [2]], 'a held delivery whose partition moved is left');
  assert.deepEqual(calls, [4, 1], 'then the loop takes again');
  await loop;
});

test('a worker that stops leaves a batch that arrives unstarted, and the loop returns', async () => {
  let release!: (deliveries: Delivery[]) => void;
  const subscription = {
    take: () => new Promise<Delivery[]>((resolve) => (release = resolve)),
  };
  const w = worker(2);
  const loop = consumeDeliveries(subscription, w.hooks);
  await tick();
  w.stop();
  release([delivery(0)]);
  await loop;
  assert.deepEqual(w.started, []);
});

test('a take that fails ends the loop with its error', async () => {
  const failure = new Error('gone');
  const w = worker(1);
  await assert.rejects(
    consumeDeliveries({ take: () => Promise.reject(failure) }, w.hooks),
    (error) => error === failure,
  );
});

test('a batch that arrives while the store does not answer waits, unstarted, until it answers', async () => {
  let release!: (deliveries: Delivery[]) => void;
  let answered!: () => void;
  let reachable = true;
  const subscription = {
    take: () => new Promise<Delivery[]>((resolve) => (release = resolve)),
  };
  const w = worker(2);
  w.hooks.whenReachable = () =>
    reachable ? Promise.resolve() : new Promise<void>((resolve) => (answered = resolve));
  const loop = consumeDeliveries(subscription, w.hooks);
  await tick();
  reachable = false;
  release([delivery(0), delivery(1)]);
  await tick();
  assert.deepEqual(w.started, [], 'nothing starts while the store is away');
  reachable = true;
  answered();
  await tick();
  assert.deepEqual(w.started, [[0, 1]]);
  w.stop();
  release([]);
  await loop;
});

test('with an offer pending, a free slot goes to the offered task before the next delivery', async () => {
  const order: string[] = [];
  let offers = 0;
  const subscription = {
    take: async (max: number) => {
      order.push(`take ${max}`);
      return order.length > 3 ? [] : [delivery(order.length)];
    },
  };
  const w = worker(1);
  w.hooks.offered = () => offers > 0;
  w.hooks.takeOffered = async () => {
    offers--;
    order.push('offered task');
    w.finish(-1); // the offered task takes the slot
  };
  const loop = consumeDeliveries(subscription, w.hooks);
  await tick();
  assert.deepEqual(order, ['take 1']);
  offers = 1; // offered while the slot is busy
  w.finish(1);
  await tick();
  assert.deepEqual(order, ['take 1', 'offered task'], 'the slot freed went to the offer');
  w.finish(1);
  await tick();
  assert.deepEqual(order, ['take 1', 'offered task', 'take 1']);
  w.finish(1);
  w.stop();
  await loop;
});
