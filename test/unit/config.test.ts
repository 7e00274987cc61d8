import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENV_VARS, resolveConfig } from '../../src/config.ts';
import { DEFAULTS } from '../../src/core/defaults.ts';
import { isYadtqError } from '../../src/core/errors.ts';

/** Asserts resolveConfig fails with INVALID_OPTION and a message matching `message`. */
function assertInvalid(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(isYadtqError(error, 'INVALID_OPTION'), `expected INVALID_OPTION, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('resolveConfig', () => {
  test("with nothing given, the seed's defaults", () => {
    assert.deepEqual(resolveConfig({}, {}), {
      kafkaBrokers: ['localhost:9092'],
      redisUrl: 'redis://localhost:6379',
      topic: 'yadtq_tasks',
      partitions: 4,
      groupId: 'yadtq_worker_group',
      prefix: 'yadtq:',
    });
  });

  test('the returned broker list is a copy, not DEFAULTS itself', () => {
    resolveConfig({}, {}).kafkaBrokers.push('mutated:1');
    assert.deepEqual(DEFAULTS.kafkaBrokers, ['localhost:9092']);
    assert.deepEqual(resolveConfig({}, {}).kafkaBrokers, ['localhost:9092']);
  });

  test('the environment variable names are the documented ones', () => {
    assert.deepEqual(ENV_VARS, {
      kafkaBrokers: 'YADTQ_KAFKA_BROKERS',
      redisUrl: 'YADTQ_REDIS_URL',
      topic: 'YADTQ_TOPIC',
      partitions: 'YADTQ_PARTITIONS',
      groupId: 'YADTQ_GROUP',
      prefix: 'YADTQ_PREFIX',
    });
  });

  test('environment variables override the defaults', () => {
    const env = {
      YADTQ_KAFKA_BROKERS: 'k1.example:9092, k2.example:9093 ,k3.example:9094',
      YADTQ_REDIS_URL: 'rediss://cache.example:6380/2',
      YADTQ_TOPIC: 'orders.tasks',
      YADTQ_PARTITIONS: '12',
      YADTQ_GROUP: 'orders_workers',
      YADTQ_PREFIX: 'orders:',
    };
    assert.deepEqual(resolveConfig({}, env), {
      kafkaBrokers: ['k1.example:9092', 'k2.example:9093', 'k3.example:9094'],
      redisUrl: 'rediss://cache.example:6380/2',
      topic: 'orders.tasks',
      partitions: 12,
      groupId: 'orders_workers',
      prefix: 'orders:',
    });
  });

  test('an empty environment variable counts as unset', () => {
    const env = {
      YADTQ_TOPIC: '',
      YADTQ_PARTITIONS: '',
      YADTQ_KAFKA_BROKERS: '',
      YADTQ_PREFIX: '',
    };
    assert.deepEqual(resolveConfig({}, env), resolveConfig({}, {}));
  });

  test('explicit values beat the environment', () => {
    const env = {
      YADTQ_KAFKA_BROKERS: 'env:1',
      YADTQ_REDIS_URL: 'redis://env:1',
      YADTQ_TOPIC: 'env_topic',
      YADTQ_PARTITIONS: '2',
      YADTQ_GROUP: 'env_group',
      YADTQ_PREFIX: 'env:',
    };
    const given = {
      kafkaBrokers: ['given-a:1', 'given-b:2'],
      redisUrl: 'redis://given:2',
      topic: 'given_topic',
      partitions: 8,
      groupId: 'given_group',
      prefix: 'given:',
    };
    assert.deepEqual(resolveConfig(given, env), given);
  });

  test('explicit values may be strings as a CLI flag gives them', () => {
    const config = resolveConfig(
      { kafkaBrokers: 'a:1,b:2', partitions: '6' },
      { YADTQ_PARTITIONS: '3' },
    );
    assert.deepEqual(config.kafkaBrokers, ['a:1', 'b:2']);
    assert.equal(config.partitions, 6);
  });

  test('an explicit value left undefined falls through to the environment', () => {
    assert.equal(
      resolveConfig({ topic: undefined }, { YADTQ_TOPIC: 'from_env' }).topic,
      'from_env',
    );
  });

  const bad: Array<[string, Parameters<typeof resolveConfig>[0], NodeJS.ProcessEnv, RegExp]> = [
    [
      'a broker without a port',
      {},
      { YADTQ_KAFKA_BROKERS: 'kafka.example' },
      /Kafka brokers .*"kafka\.example"/,
    ],
    [
      'one bad broker in a list',
      { kafkaBrokers: 'a:1,b:port' },
      {},
      /Kafka brokers .*"a:1,b:port"/,
    ],
    ['an empty broker list', { kafkaBrokers: [] }, {}, /Kafka brokers .*\[\]/],
    ['a broker list of commas', {}, { YADTQ_KAFKA_BROKERS: ' , ' }, /Kafka brokers .*" , "/],
    ['zero partitions', {}, { YADTQ_PARTITIONS: '0' }, /partitions .*"0"/],
    ['negative partitions', { partitions: -2 }, {}, /partitions .*-2/],
    ['fractional partitions', {}, { YADTQ_PARTITIONS: '1.5' }, /partitions .*"1\.5"/],
    ['partitions that are not a number', {}, { YADTQ_PARTITIONS: 'four' }, /partitions .*"four"/],
    [
      'an http Redis URL',
      {},
      { YADTQ_REDIS_URL: 'http://localhost:6379' },
      /Redis URL .*"http:\/\/localhost:6379"/,
    ],
    [
      'a Redis host without a scheme',
      { redisUrl: 'localhost:6379' },
      {},
      /Redis URL .*"localhost:6379"/,
    ],
    ['a topic with a space', {}, { YADTQ_TOPIC: 'my tasks' }, /topic "my tasks" is not a valid/],
    ['a topic with a slash', { topic: 'a/b' }, {}, /topic "a\/b" is not a valid/],
    ['an empty explicit topic', { topic: '' }, {}, /topic must not be empty/],
    ['an empty explicit group', { groupId: '' }, {}, /groupId must not be empty/],
    ['an empty explicit prefix', { prefix: '' }, {}, /prefix must not be empty/],
  ];
  for (const [label, given, env, message] of bad) {
    test(`refuses ${label} with INVALID_OPTION naming it`, () => {
      assertInvalid(() => resolveConfig(given, env), message);
    });
  }

  test('a bad environment value is refused even when other values are fine', () => {
    assertInvalid(() => resolveConfig({ topic: 'ok' }, { YADTQ_PARTITIONS: 'x' }), /partitions/);
  });

  test('a good explicit value hides a bad environment value', () => {
    assert.equal(resolveConfig({ partitions: 3 }, { YADTQ_PARTITIONS: 'x' }).partitions, 3);
  });
});
