import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { formatOverview } from '../../src/cli/commands/stats.ts';
import { DEFAULTS } from '../../src/core/defaults.ts';
import type { LogFields, Logger } from '../../src/core/logger.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  readOverview,
  resolveConfig,
  TaskWorker,
} from '../../src/index.ts';
import { readRetentionMs } from '../../src/kafka/topic-retention.ts';
import { renderMetrics } from '../../src/metrics/prometheus.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';
import { deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const HOUR = 60 * 60 * 1000;

/** A logger that keeps what was warned. */
function warnings(): Logger & { seen: Array<{ message: string; fields: LogFields }> } {
  const seen: Array<{ message: string; fields: LogFields }> = [];
  return {
    seen,
    debug() {},
    info() {},
    warn(message, fields = {}) {
      seen.push({ message, fields });
    },
    error() {},
  };
}

describe('the task topic retention: set at create, checked at start, watched in the lag', () => {
  const admin = new Admin({ clientId: 'yadtq-test-retention', bootstrapBrokers: [KAFKA_BROKERS] });
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
    await admin.close();
  });

  async function backendOn(names: ReturnType<typeof uniqueNames>, kafka = {}): Promise<Backend> {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    const backend = await createKafkaRedisBackend(config, {
      clientId: 'yadtq-test-retention',
      kafka,
    });
    cleanup.push(async () => {
      await backend.close();
      await deleteKeys(names.prefix);
    });
    return backend;
  }

  async function topicWithRetention(topic: string, retentionMs: number): Promise<void> {
    await admin.createTopics({
      topics: [topic],
      partitions: 4,
      replicas: 1,
      configs: [{ name: 'retention.ms', value: String(retentionMs) }],
    });
    cleanup.push(() => admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {}));
  }

  async function startWorker(backend: Backend, logger: Logger): Promise<void> {
    const worker = new TaskWorker({
      id: `ret-${Math.random().toString(36).slice(2, 8)}`,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: [],
      monitor: false,
      logger,
    });
    await worker.start();
    cleanup.push(() => worker.stop());
  }

  test('a topic yadtq creates has the retention option (default: the pending TTL), not the broker default', async () => {
    const names = uniqueNames('retention-create');
    const other = uniqueNames('retention-option');
    cleanup.push(() => admin.deleteTopics({ topics: [names.topic, other.topic] }).catch(() => {}));
    const plain = await backendOn(names);
    await plain.broker.produce('tasks', [{ key: 'k', value: '{}' }]);
    assert.equal(await readRetentionMs(admin, names.topic), DEFAULTS.topicRetentionMs);
    assert.ok(DEFAULTS.topicRetentionMs >= DEFAULTS.pendingTtlMs);
    const chosen = await backendOn(other, { topicRetentionMs: 10 * 24 * HOUR });
    await chosen.broker.produce('tasks', [{ key: 'k', value: '{}' }]);
    assert.equal(await readRetentionMs(admin, other.topic), 10 * 24 * HOUR);
  });

  test('a topic made with a short retention triggers the warning at worker start', async () => {
    const short = uniqueNames('retention-short');
    await topicWithRetention(short.topic, 60_000);
    const logger = warnings();
    await startWorker(await backendOn(short), logger);
    const warned = logger.seen.find((w) => /less than the pending TTL/.test(w.message));
    assert.ok(warned, `warnings: ${JSON.stringify(logger.seen)}`);
    assert.equal(warned.fields.retentionMs, 60_000);
    assert.equal(warned.fields.wantedMs, DEFAULTS.topicRetentionMs);
    assert.equal(warned.fields.topic, short.topic);

    const long = uniqueNames('retention-long');
    await topicWithRetention(long.topic, 8 * 24 * HOUR);
    const quiet = warnings();
    await startWorker(await backendOn(long), quiet);
    assert.deepEqual(
      quiet.seen.filter((w) => /retention/.test(w.message)),
      [],
      'a topic that keeps enough is not warned about',
    );
  });

  test('stats, the overview and /metrics show the age of the oldest waiting record, flagged near the retention', async () => {
    const names = uniqueNames('retention-age');
    await topicWithRetention(names.topic, 2 * HOUR);
    const producer = new Producer<string, string, string, string>({
      clientId: 'yadtq-test-retention',
      bootstrapBrokers: [KAFKA_BROKERS],
      serializers: stringSerializers,
    });
    cleanup.push(() => producer.close());
    const old = BigInt(Date.now() - 100 * 60 * 1000);
    await producer.send({
      messages: [
        { topic: names.topic, key: 'a', value: '{}', partition: 0, timestamp: old },
        { topic: names.topic, key: 'b', value: '{}', partition: 0 },
        { topic: names.topic, key: 'c', value: '{}', partition: 1 },
      ],
    });
    const backend = await backendOn(names);
    const overview = await readOverview(backend);
    const lag = overview.lag;
    assert.ok(lag, overview.lagError);
    assert.equal(lag.retentionMs, 2 * HOUR);
    const [p0, p1, p2] = lag.partitions;
    assert.ok(p0 && p1 && p2);
    assert.ok(Math.abs(p0.oldestAgeMs! - 100 * 60 * 1000) < 60_000, `p0 age ${p0.oldestAgeMs}`);
    assert.equal(p0.nearRetention, true, '100 min of 120 is past the warning share');
    assert.ok(p1.oldestAgeMs! < 60_000, `p1 age ${p1.oldestAgeMs}`);
    assert.equal(p1.nearRetention, false);
    assert.equal(p2.oldestAgeMs, null, 'no backlog, no age');

    const metrics = parsePrometheus(renderMetrics(overview));
    const labels = (partition: number) => ({ topic: names.topic, partition: String(partition) });
    assert.equal(seriesValue(metrics, 'yadtq_partition_near_retention', labels(0)), 1);
    assert.equal(seriesValue(metrics, 'yadtq_partition_near_retention', labels(1)), 0);
    assert.ok(seriesValue(metrics, 'yadtq_partition_oldest_age_seconds', labels(0))! > 5000);
    assert.equal(seriesValue(metrics, 'yadtq_partition_oldest_age_seconds', labels(2)), undefined);
    assert.equal(
      seriesValue(metrics, 'yadtq_topic_retention_seconds', { topic: names.topic }),
      7200,
    );

    const text = formatOverview(overview);
    assert.match(text, /OLDEST/);
    assert.match(text, /WARNING: the backlog of partition\(s\) 0 nears the topic retention/);
  });
});
