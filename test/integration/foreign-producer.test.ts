// A task submitted the way another language would: an envelope written as JSON text by
// hand, checked against the shipped JSON Schema, and produced with a plain Kafka producer
// (not yadtq's client: no Redis record, no dedup step). A yadtq worker must run it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { demoTasks } from '../../src/demo.ts';
import {
  type Backend,
  createKafkaRedisBackend,
  DLQ_HEADERS,
  resolveConfig,
  TaskClient,
  type TaskRecord,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { deleteKeys, KAFKA_BROKERS, REDIS_URL, uniqueNames } from './services.ts';

const SCHEMA = JSON.parse(
  readFileSync(new URL('../../schema/task-envelope.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv2020({ strict: true }).compile(SCHEMA);
const COUNT = 10;

describe('a task produced from outside yadtq, by the JSON Schema of the envelope', () => {
  const names = uniqueNames('foreign');
  let backend: Backend;
  let worker: TaskWorker;
  let producer: Producer<string, string, string, string>;

  before(async () => {
    const config = resolveConfig({ kafkaBrokers: KAFKA_BROKERS, redisUrl: REDIS_URL, ...names });
    backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-test-foreign' });
    worker = new TaskWorker({
      id: `foreign-${randomBytes(3).toString('hex')}`,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      tasks: demoTasks,
    });
    await worker.start(); // creates the task topics
    producer = new Producer({
      clientId: 'not-yadtq',
      bootstrapBrokers: KAFKA_BROKERS.split(','),
      serializers: stringSerializers,
    });
  });

  after(async () => {
    await producer?.close();
    await worker?.stop();
    await backend?.close();
    await deleteKeys(names.prefix);
  });

  test(`${COUNT} hand-written envelopes run to the right results; one the schema refuses is dead-lettered`, async () => {
    const now = Date.now();
    const ids = Array.from({ length: COUNT }, (_, i) => `ext-${now}-${i}`);
    const texts = ids.map(
      (id, i) =>
        `{"v":1,"id":"${id}","name":"mul","args":[${i},7,0],"attempt":1,"maxAttempts":1,` +
        `"timeoutMs":10000,"dedupKey":null,"submittedAt":${now}}`,
    );
    for (const text of texts)
      assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
    const badId = `ext-${now}-bad`;
    const bad = `{"v":1,"id":"${badId}","name":"mul","args":[1,2],"attempt":0,"maxAttempts":1,"timeoutMs":10000,"dedupKey":null,"submittedAt":${now}}`;
    assert.equal(validate(JSON.parse(bad)), false, 'attempt 0 is refused by the schema');

    await producer.send({
      messages: [...texts, bad].map((value, i) => ({
        topic: names.topic,
        key: ids[i] ?? badId,
        value,
      })),
      acks: -1,
    });

    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const records = new Map<string, TaskRecord>();
    await until(async () => {
      for (const id of ids) {
        const record = await client.status(id);
        if (record !== null && (record.status === 'success' || record.status === 'failed'))
          records.set(id, record);
      }
      return records.size === COUNT;
    }, 30_000);
    ids.forEach((id, i) => {
      const record = records.get(id);
      assert.equal(record?.status, 'success', JSON.stringify(record));
      assert.equal(record?.result, i * 7);
      assert.equal(record?.name, 'mul');
      assert.equal(record?.submittedAt, now);
    });

    let dead: Awaited<ReturnType<Backend['broker']['deadLetters']>> = [];
    await until(async () => {
      dead = await backend.broker.deadLetters(10);
      return dead.length > 0;
    }, 15_000);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.value, bad);
    assert.equal(dead[0]?.headers?.[DLQ_HEADERS.reason], 'invalid-message');
    assert.equal(await client.status(badId), null, 'no record was written for it');
  });
});
