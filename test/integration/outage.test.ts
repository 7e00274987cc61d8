import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalKafka, LocalRedis } from '../../scripts/services/index.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  defineTask,
  isYadtqError,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { exited, spawnYadtq, yadtq } from './cli-helpers.ts';
import { cliEnv, deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

// Outages: a Kafka broker and a Redis stopped and restarted under running workers and a
// submitting client (both servers our own, on their own ports, keeping their data), and
// unreachable servers at start-up.

/** The port of the broker this file restarts (never the suite's shared one). */
const OUTAGE_KAFKA_PORT = Number(process.env.YADTQ_OUTAGE_KAFKA_PORT ?? 19292);

const double = defineTask('outage-double', async ([n]: [number]) => {
  await sleep(5);
  return n * 2;
});

interface Scene {
  backends: Backend[];
  workers: TaskWorker[];
  client: TaskClient;
  prefix: string;
  redisUrl: string;
}

/** Two in-process workers (each with its own connections) and a client, on unique names. */
async function scene(label: string, kafkaBrokers: string, redisUrl: string): Promise<Scene> {
  const names = uniqueNames(label);
  const config = resolveConfig({ kafkaBrokers, redisUrl, ...names });
  const backends: Backend[] = [];
  const workers: TaskWorker[] = [];
  for (const id of [`${label}-a`, `${label}-b`]) {
    const backend = await createKafkaRedisBackend(config, { clientId: id });
    backends.push(backend);
    const worker = new TaskWorker({
      id,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [double],
      concurrency: 8,
    });
    await worker.start();
    workers.push(worker);
  }
  const clientBackend = await createKafkaRedisBackend(config, { clientId: `${label}-client` });
  backends.push(clientBackend);
  const client = new TaskClient({ broker: clientBackend.broker, store: clientBackend.store });
  return { backends, workers, client, prefix: names.prefix, redisUrl };
}

async function teardown(s: Scene | undefined): Promise<void> {
  if (s === undefined) return;
  await Promise.allSettled(s.workers.map((w) => w.stop()));
  await Promise.allSettled(s.backends.map((b) => b.close()));
}

/**
 * Submits a batch of 5 tasks every 200 ms until `stop()` is called. A submit that fails
 * (BROKER_UNAVAILABLE / STORE_UNAVAILABLE during the outage) was not accepted: the same
 * numbers are submitted again. Returns what was accepted and how submits failed.
 */
function submitter(client: TaskClient) {
  const accepted = new Map<string, number>();
  const failures: Record<string, number> = {};
  let running = true;
  let next = 0;
  const loop = (async () => {
    let retry: number[] = [];
    while (running) {
      const batch = retry.length > 0 ? retry : [next, next + 1, next + 2, next + 3, next + 4];
      if (retry.length === 0) next += 5;
      try {
        const handles = await client.submitMany(
          double,
          batch.map((n) => [n] as [number]),
        );
        handles.forEach((h, k) => {
          accepted.set(h.id, batch[k]!);
        });
        retry = [];
      } catch (error) {
        const code = isYadtqError(error) ? error.code : String(error);
        failures[code] = (failures[code] ?? 0) + 1;
        retry = batch;
      }
      await sleep(200);
    }
  })();
  return {
    accepted,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Waits until every accepted task is `success` with the right result; returns the stragglers. */
async function allSucceed(
  client: TaskClient,
  accepted: Map<string, number>,
  timeoutMs: number,
): Promise<string[]> {
  const pending = new Set(accepted.keys());
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const record = await client.status(id).catch(() => null);
      if (record?.status === 'success') {
        assert.equal(record.result, accepted.get(id)! * 2, `result of ${id}`);
        pending.delete(id);
      } else if (record !== null && ['failed', 'cancelled'].includes(record.status)) {
        return [`${id}: ${record.status} ${JSON.stringify(record.error)}`];
      }
    }
    if (pending.size > 0) await sleep(500);
  }
  return [...pending];
}

describe('outages: servers stopped and restarted mid-run', () => {
  const kafka = new LocalKafka(OUTAGE_KAFKA_PORT);
  let kafkaWasRunning = false;

  before(async () => {
    kafkaWasRunning = await kafka.running();
    await kafka.start(false);
  });

  after(async () => {
    if (!kafkaWasRunning) await kafka.stop();
  });

  for (const outageMs of [3000, 20_000]) {
    test(`Kafka broker down for ${outageMs / 1000} s and restarted: workers and client recover, no accepted task is lost`, {
      timeout: 240_000,
    }, async () => {
      let s: Scene | undefined;
      try {
        s = await scene('kafka-outage', kafka.brokers, REDIS_URL);
        const feed = submitter(s.client);
        await sleep(3000);
        const before = feed.accepted.size;
        assert.ok(before > 0, 'tasks were accepted before the outage');
        await kafka.stop();
        await sleep(outageMs);
        await kafka.start(true);
        // Keep submitting until a batch made after the restart has been accepted, and more.
        const afterRestart = feed.accepted.size;
        await until(async () => feed.accepted.size >= afterRestart + 50, 90_000);
        await feed.stop();
        const stragglers = await allSucceed(s.client, feed.accepted, 120_000);
        console.log(
          `Kafka outage: ${feed.accepted.size} tasks accepted (${before} before it), submit failures ${JSON.stringify(feed.failures)}`,
        );
        const shown = await Promise.all(
          stragglers.map(async (id) => JSON.stringify(await s!.client.status(id).catch(String))),
        );
        assert.deepEqual(stragglers, [], `every accepted task ended success: ${shown.join('; ')}`);
        for (const code of Object.keys(feed.failures)) assert.equal(code, 'BROKER_UNAVAILABLE');
      } finally {
        await teardown(s);
        if (s !== undefined) await deleteKeys(s.prefix);
      }
    });
  }

  test('a worker SIGKILLed while Kafka is down: its tasks finish on a live worker before Kafka is back', {
    timeout: 240_000,
  }, async () => {
    const names = uniqueNames('kill-in-kafka-outage');
    const env = { ...cliEnv(names), YADTQ_KAFKA_BROKERS: kafka.brokers };
    const workers = new Map(
      ['k1', 'k2'].map((id) => [id, spawnYadtq(['worker', id, '--concurrency', '20'], env)]),
    );
    const config = resolveConfig({ kafkaBrokers: kafka.brokers, redisUrl: REDIS_URL, ...names });
    const backend = await createKafkaRedisBackend(config, { clientId: 'kill-in-outage-client' });
    try {
      await until(async () => {
        const infos = await backend.registry.list();
        return ['k1', 'k2'].every((id) =>
          infos.some((i) => i.id === id && i.alive && i.partitions.length > 0),
        );
      }, 90_000);
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      // 40 tasks of 4 s: each worker holds 20, so both are busy when Kafka goes away.
      const handles = await client.submitMany(
        'mul',
        Array.from({ length: 40 }, (_, i) => [i, 3, 4000]),
        { dedup: false },
      );
      await until(async () => (await backend.monitorStore.heldBy('k1')).length > 0, 30_000);
      await kafka.stop();
      const held = await backend.monitorStore.heldBy('k1');
      const killedAt = Date.now();
      workers.get('k1')!.child.kill('SIGKILL');
      // Kafka stays down: only the store can hand k1's tasks to k2.
      await until(async () => {
        const records = await Promise.all(held.map((id) => client.status(id)));
        return records.every((r) => r?.status === 'success');
      }, 45_000);
      const recovered = await Promise.all(held.map((id) => client.status(id)));
      const doneAt = Math.max(...recovered.map((r) => r?.finishedAt ?? 0));
      for (const r of recovered) {
        assert.equal(r?.worker, 'k2', JSON.stringify(r));
        assert.equal(r?.losses, 1);
      }
      console.log(
        `Kafka down: ${held.length} tasks of the killed worker finished on k2 ${doneAt - killedAt} ms after the kill`,
      );
      await kafka.start(true);
      const records = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 90_000 })));
      records.forEach((r, i) => {
        assert.equal(r.status, 'success', JSON.stringify(r));
        assert.equal(r.result, i * 3);
      });
      workers.get('k2')!.child.kill('SIGTERM');
      assert.equal(await exited(workers.get('k2')!.child), 0);
    } finally {
      await kafka.start(true).catch(() => {});
      for (const w of workers.values()) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await backend.close();
      await deleteKeys(names.prefix);
    }
  });

  for (const outageMs of [3000, 15_000]) {
    test(`Redis stopped for ${outageMs / 1000} s and restarted (AOF): no accepted task is lost`, {
      timeout: 240_000,
    }, async () => {
      const redis = await LocalRedis.start({ appendOnly: true });
      let s: Scene | undefined;
      try {
        s = await scene(`redis-outage-${outageMs}`, KAFKA_BROKERS, redis.url);
        const feed = submitter(s.client);
        await sleep(3000);
        const before = feed.accepted.size;
        assert.ok(before > 0, 'tasks were accepted before the outage');
        await redis.stop();
        await sleep(outageMs);
        await redis.start();
        const afterRestart = feed.accepted.size;
        await until(async () => feed.accepted.size >= afterRestart + 50, 90_000);
        await feed.stop();
        const stragglers = await allSucceed(s.client, feed.accepted, 120_000);
        console.log(
          `Redis outage ${outageMs} ms: ${feed.accepted.size} tasks accepted (${before} before it), submit failures ${JSON.stringify(feed.failures)}`,
        );
        const shown = await Promise.all(
          stragglers.map(async (id) => JSON.stringify(await s!.client.status(id).catch(String))),
        );
        assert.deepEqual(stragglers, [], `every accepted task ended success: ${shown.join('; ')}`);
        for (const code of Object.keys(feed.failures)) assert.equal(code, 'STORE_UNAVAILABLE');
        // Every worker lived through it: none of its tasks may be counted as a worker loss.
        const records = await Promise.all(
          [...feed.accepted.keys()].map((id) => s!.client.status(id)),
        );
        const lost = records
          .filter((r) => (r?.losses ?? 0) > 0)
          .map((r) => `${r!.id}: ${r!.losses}`);
        assert.deepEqual(lost, [], 'tasks of live workers were reaped as lost');
      } finally {
        await teardown(s);
        await redis.stop();
      }
    });
  }
});

/** A TCP server that accepts connections and never answers: a hung server. */
async function silentServer(): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server, sockets };
}

/** Runs `work` and expects it to reject with `code` within `limitMs`; returns the time taken. */
async function failsWith(code: string, limitMs: number, work: () => Promise<unknown>) {
  const started = Date.now();
  await assert.rejects(work(), (error: unknown) => {
    assert.ok(isYadtqError(error), `a YadtqError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took < limitMs, `failed after ${took} ms (limit ${limitMs} ms)`);
  return took;
}

describe('outages: unreachable at start-up gives a clear error in bounded time', {
  concurrency: true,
}, () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;

  before(async () => {
    silent = await silentServer();
  });

  after(() => {
    for (const socket of silent.sockets) socket.destroy();
    silent.server.close();
  });

  const cases = [
    { what: 'Kafka refusing connections', kafka: () => '127.0.0.1:1', redis: () => REDIS_URL },
    {
      what: 'Kafka accepting but never answering',
      kafka: () => `127.0.0.1:${silent.port}`,
      redis: () => REDIS_URL,
    },
    {
      what: 'Redis refusing connections',
      kafka: () => KAFKA_BROKERS,
      redis: () => 'redis://127.0.0.1:1',
    },
    {
      what: 'Redis accepting but never answering',
      kafka: () => KAFKA_BROKERS,
      redis: () => `redis://127.0.0.1:${silent.port}`,
    },
  ];

  for (const c of cases) {
    const code = c.what.startsWith('Kafka') ? 'BROKER_UNAVAILABLE' : 'STORE_UNAVAILABLE';
    test(`${c.what}: TaskWorker.start and TaskClient.submit fail with ${code}`, {
      timeout: 60_000,
    }, async () => {
      const names = uniqueNames('unreachable');
      const config = resolveConfig({ kafkaBrokers: c.kafka(), redisUrl: c.redis(), ...names });
      const backend = await createKafkaRedisBackend(config, { clientId: 'unreachable' });
      try {
        const worker = new TaskWorker({
          id: 'unreachable',
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          tasks: [double],
        });
        const client = new TaskClient({ broker: backend.broker, store: backend.store });
        const took = await Promise.all([
          failsWith(code, 20_000, () => worker.start()),
          failsWith(code, 20_000, () => client.submit(double, [1])),
        ]);
        console.log(`${c.what}: worker.start failed in ${took[0]} ms, submit in ${took[1]} ms`);
      } finally {
        await backend.close();
        await deleteKeys(names.prefix);
      }
    });
  }

  for (const [flag, value, code] of [
    ['--brokers', '127.0.0.1:1', 'BROKER_UNAVAILABLE'],
    ['--redis-url', 'redis://127.0.0.1:1', 'STORE_UNAVAILABLE'],
  ] as const) {
    test(`CLI: yadtq worker with ${flag} ${value} exits 1 naming ${code}`, {
      timeout: 60_000,
    }, async () => {
      const names = uniqueNames('unreachable-cli');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        YADTQ_KAFKA_BROKERS: KAFKA_BROKERS,
        YADTQ_REDIS_URL: REDIS_URL,
        YADTQ_TOPIC: names.topic,
        YADTQ_GROUP: names.groupId,
        YADTQ_PREFIX: names.prefix,
      };
      const started = Date.now();
      const result = await yadtq(['worker', 'w', flag, value], env, 40_000);
      const took = Date.now() - started;
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot .*\\[${code}\\]`));
      assert.ok(took < 25_000, `exited after ${took} ms`);
      await deleteKeys(names.prefix);
    });
  }
});
