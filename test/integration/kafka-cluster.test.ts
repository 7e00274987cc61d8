import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { LocalKafka } from '../../scripts/services/index.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  defineTask,
  isYadtqError,
  type Logger,
  resolveConfig,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { KafkaBroker } from '../../src/kafka/kafka-broker.ts';
import { until } from '../contract/contract.ts';
import { deleteKeys, REDIS_URL, uniqueNames } from './services.ts';

// A 3-broker KRaft cluster of this file's own (scripts/kafka.mjs --brokers 3, never the
// suite's broker): the topics yadtq creates on it, and one broker SIGKILLed and restarted
// while 500 tasks run.

/** The first port of the cluster (brokers on it and the next two). */
const CLUSTER_PORT = Number(process.env.YADTQ_CLUSTER_KAFKA_PORT ?? 19095);

/** Runs of each task id, counted by the handler itself (the workers are in this process). */
const runs = new Map<string, number>();
const triple = defineTask(
  'cluster-triple',
  async ([n]: [number], { taskId }) => {
    runs.set(taskId, (runs.get(taskId) ?? 0) + 1);
    await sleep(10);
    return n * 3;
  },
  { dedup: false },
);

/** A logger that keeps the warnings it is given. */
function warningsLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
}

async function describeTopic(brokers: string, topic: string) {
  const admin = new Admin({ clientId: 'cluster-test-admin', bootstrapBrokers: brokers.split(',') });
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const [config] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configurationKeys: ['min.insync.replicas'],
        },
      ],
    });
    return {
      partitions: metadata.topics.get(topic)?.partitions ?? [],
      minInSync: Number(config?.configs.find((c) => c.name === 'min.insync.replicas')?.value),
    };
  } finally {
    await admin.close();
  }
}

describe('a 3-broker Kafka cluster', () => {
  const kafka = new LocalKafka(CLUSTER_PORT, 3);
  let brokers = '';

  before(async () => {
    brokers = await kafka.start(false);
  });

  after(async () => {
    await kafka.stop();
  });

  test('topics get replication factor 3 and min.insync.replicas 2; too many replicas fail clearly; an older topic is warned about', async () => {
    const names = uniqueNames('cluster-topics');
    const logger = warningsLogger();
    const broker = new KafkaBroker({ brokers: brokers.split(','), topic: names.topic, logger });
    try {
      await broker.produce('tasks', [{ key: 'k', value: '{}' }]);
      for (const topic of [names.topic, `${names.topic}.dlq`]) {
        const { partitions, minInSync } = await describeTopic(brokers, topic);
        assert.equal(partitions.length, 4);
        for (const p of partitions) assert.equal(p.replicas.length, 3, `${topic} replicas`);
        assert.equal(minInSync, 2, `${topic} min.insync.replicas`);
      }
      assert.deepEqual(logger.warnings, []);
    } finally {
      await broker.close();
    }

    const tooMany = new KafkaBroker({
      brokers: brokers.split(','),
      topic: uniqueNames('cluster-too-many').topic,
      replicationFactor: 4,
    });
    try {
      await assert.rejects(tooMany.produce('tasks', [{ key: 'k', value: '{}' }]), (error) => {
        assert.ok(isYadtqError(error, 'INVALID_OPTION'), String(error));
        assert.match(error.message, /with 4 replicas: .* reports 3 live broker\(s\)/);
        return true;
      });
    } finally {
      await tooMany.close();
    }

    // A topic made before with one replica: the broker that meets it says so.
    const old = uniqueNames('cluster-old');
    const single = new KafkaBroker({
      brokers: brokers.split(','),
      topic: old.topic,
      replicationFactor: 1,
    });
    await single.produce('tasks', [{ key: 'k', value: '{}' }]).finally(() => single.close());
    const later = warningsLogger();
    const auto = new KafkaBroker({ brokers: brokers.split(','), topic: old.topic, logger: later });
    await auto.produce('tasks', [{ key: 'k', value: '{}' }]).finally(() => auto.close());
    assert.ok(
      later.warnings.some((w) =>
        /1 replica\(s\) per partition, fewer than the 3 asked for/.test(w),
      ),
      JSON.stringify(later.warnings),
    );
    assert.ok(
      later.warnings.some((w) => /min\.insync\.replicas=1, below the 2 asked for/.test(w)),
      JSON.stringify(later.warnings),
    );
  });

  test('a broker SIGKILLed while 500 tasks run, and restarted: no accepted task is lost, submits succeed or fail retriably', {
    timeout: 240_000,
  }, async () => {
    const names = uniqueNames('cluster-kill');
    const config = resolveConfig({ kafkaBrokers: brokers, redisUrl: REDIS_URL, ...names });
    const backends: Backend[] = [];
    const workers: TaskWorker[] = [];
    try {
      for (const id of ['a', 'b']) {
        const backend = await createKafkaRedisBackend(config, { clientId: `cluster-${id}` });
        backends.push(backend);
        const worker = new TaskWorker({
          id: `${names.groupId}-${id}`,
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          tasks: [triple],
          concurrency: 8,
        });
        await worker.start();
        workers.push(worker);
      }
      const clientBackend = await createKafkaRedisBackend(config, { clientId: 'cluster-client' });
      backends.push(clientBackend);
      const client = new TaskClient({ broker: clientBackend.broker, store: clientBackend.store });

      // The broker leading most task partitions: killing it moves leaders under everyone.
      const { partitions } = await describeTopic(brokers, names.topic);
      const led = new Map<number, number>();
      for (const p of partitions) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
      const victim = [...led].sort((a, b) => b[1] - a[1])[0]![0];

      const total = 500;
      const accepted = new Map<string, { n: number; at: number }>();
      const failures: string[] = [];
      let slowestSubmitMs = 0;
      let next = 0;
      const submitting = (async () => {
        while (next < total) {
          const batch = Array.from({ length: 10 }, (_, k) => next + k);
          const at = Date.now();
          try {
            const handles = await client.submitMany(
              triple,
              batch.map((n) => [n] as [number]),
            );
            handles.forEach((h, k) => {
              accepted.set(h.id, { n: batch[k]!, at });
            });
            next += batch.length;
            slowestSubmitMs = Math.max(slowestSubmitMs, Date.now() - at);
          } catch (error) {
            // Not accepted: the same numbers go again, as a caller would retry.
            const retriable = isYadtqError(error) && error.retriable;
            failures.push(
              `${isYadtqError(error) ? error.code : 'not a YadtqError'} retriable=${retriable}: ${String(error)}`,
            );
          }
          await sleep(100);
        }
      })();

      await until(async () => accepted.size >= 100, 60_000);
      const killedAt = Date.now();
      await kafka.kill(victim);
      await sleep(6000);
      await kafka.start(true);
      const backAt = Date.now();
      await submitting;

      // Every accepted task ends success, with its own result.
      const pending = new Map(accepted);
      let resumedAt: number | null = null;
      const deadline = Date.now() + 120_000;
      while (pending.size > 0 && Date.now() < deadline) {
        const ids = [...pending.keys()];
        const records = await Promise.all(ids.map((id) => client.status(id).catch(() => null)));
        ids.forEach((id, k) => {
          const record = records[k];
          if (record?.status !== 'success') return;
          const { n, at } = pending.get(id)!;
          assert.equal(record.result, n * 3, `result of task ${n}`);
          if (at > killedAt && record.finishedAt !== null) {
            resumedAt = Math.min(resumedAt ?? Number.POSITIVE_INFINITY, record.finishedAt);
          }
          pending.delete(id);
        });
        if (pending.size > 0) await sleep(500);
      }
      const executions = [...accepted.keys()].map((id) => runs.get(id) ?? 0);
      const twice = executions.filter((count) => count === 2).length;
      const resumeMs = resumedAt === null ? null : (resumedAt as number) - killedAt;
      console.log(
        `3-broker cluster: broker ${victim} SIGKILLed and back after ${backAt - killedAt} ms; ` +
          `${accepted.size} tasks accepted, ${accepted.size - pending.size} ended success, ` +
          `${twice} executed twice, ${failures.length} submits failed (slowest accepted ${slowestSubmitMs} ms); ` +
          `first task submitted after the kill finished ${resumeMs} ms after it`,
      );
      assert.equal(accepted.size, total, 'every task was accepted in the end');
      assert.deepEqual(
        [...pending.values()].map((p) => p.n),
        [],
        'tasks that did not end success',
      );
      assert.ok(
        executions.every((count) => count === 1 || count === 2),
        `each task ran once or twice: ${JSON.stringify(executions.filter((c) => c !== 1 && c !== 2))}`,
      );
      for (const failure of failures) assert.match(failure, /^BROKER_UNAVAILABLE retriable=true/);
      assert.notEqual(resumeMs, null, 'tasks submitted after the kill ran');

      // The lag reader and the dead-letter reader follow the moved leaders too.
      await until(async () => (await clientBackend.lag()).total === 0, 30_000);
      assert.deepEqual(await clientBackend.broker.deadLetters(5), []);
    } finally {
      await Promise.allSettled(workers.map((w) => w.stop()));
      await Promise.allSettled(backends.map((b) => b.close()));
      await deleteKeys(names.prefix);
    }
  });
});
