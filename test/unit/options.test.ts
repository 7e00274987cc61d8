import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config.ts';
import { DEFAULTS } from '../../src/core/defaults.ts';
import {
  check,
  hostPort,
  identifier,
  numberText,
  oneOf,
  optional,
  or,
  redisUrl,
  show,
  topicName,
  wholeNumber,
} from '../../src/core/options.ts';
import { resolveWorkerOptions } from '../../src/core/worker/options.ts';
import { isYadtqError } from '../../src/index.ts';
import { resolveKafkaBrokerOptions } from '../../src/kafka/options.ts';
import { resolveRedisStoreOptions } from '../../src/redis/options.ts';

test('a rule says what it accepts, and a bad value is INVALID_OPTION in one wording', () => {
  assert.equal(check('n', 3, wholeNumber(1)), 3);
  assert.throws(
    () => check('n', 1.5, wholeNumber(1)),
    (e) =>
      isYadtqError(e, 'INVALID_OPTION') && e.message === 'n must be a whole number ≥ 1, got 1.5',
  );
  assert.equal(wholeNumber(0).accepts(2 ** 53), false);
  assert.equal(or(wholeNumber(1), 'auto').says, 'a whole number ≥ 1 or "auto"');
  assert.equal(oneOf(['a', 'b', 'c']).says, 'one of "a", "b", "c"');
  assert.equal(show(Number.NaN), 'NaN');
  assert.equal(show(undefined), 'undefined');
  assert.equal(show('x'), '"x"');
  assert.equal(numberText(wholeNumber(1)).accepts(' '), false);
  assert.equal(numberText(wholeNumber(1)).parse('12'), 12);
  assert.ok(hostPort.accepts('[::1]:9092') && !hostPort.accepts('a:1:2'));
  assert.ok(redisUrl.accepts('rediss://h:1') && !redisUrl.accepts('http://h'));
  assert.ok(identifier(3).accepts('a:b') && !identifier(3).accepts('abcd'));
});

test('one topic-name rule: the Kafka broker options and the connection config agree', () => {
  for (const topic of ['t', 'a.b_c-d', 'x'.repeat(245), 'x'.repeat(246), 'a b', 'a/b', '']) {
    const byConfig = (() => {
      try {
        return resolveConfig({ topic }, {}).topic === topic;
      } catch {
        return false;
      }
    })();
    const byBroker = (() => {
      try {
        return resolveKafkaBrokerOptions({ topic }).topic === topic;
      } catch {
        return false;
      }
    })();
    assert.equal(byConfig, topicName.accepts(topic), `config on ${topic.slice(0, 20)}`);
    assert.equal(byBroker, topicName.accepts(topic), `broker on ${topic.slice(0, 20)}`);
  }
});

test('an option given as undefined keeps its default, in every resolver', () => {
  assert.equal(optional('x', undefined, wholeNumber(1), 7), 7);
  const worker = resolveWorkerOptions({
    concurrency: undefined,
    heartbeatIntervalMs: undefined,
    heartbeatTtlMs: undefined,
    hungLoopMarginMs: undefined,
    maxZombies: undefined,
    shutdownGraceMs: undefined,
    watchdog: undefined,
    monitor: { intervalMs: undefined, leaderTtlMs: undefined, maxWorkerLosses: undefined },
  });
  assert.deepEqual(worker, {
    concurrency: DEFAULTS.concurrency,
    heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
    heartbeatTtlMs: DEFAULTS.heartbeatTtlMs,
    hungLoopMarginMs: DEFAULTS.hungLoopMarginMs,
    maxZombies: DEFAULTS.maxZombies,
    shutdownGraceMs: DEFAULTS.shutdownGraceMs,
    watchdog: true,
    monitor: {
      intervalMs: DEFAULTS.monitorIntervalMs,
      leaderTtlMs: DEFAULTS.leaderTtlMs,
      maxWorkerLosses: DEFAULTS.maxWorkerLosses,
    },
  });
  const kafka = resolveKafkaBrokerOptions({ sessionTimeoutMs: undefined, topic: undefined });
  assert.equal(kafka.sessionTimeoutMs, DEFAULTS.kafkaSessionTimeoutMs);
  assert.equal(kafka.topic, DEFAULTS.topic);
  const redis = resolveRedisStoreOptions({ url: undefined, retentionMs: undefined });
  assert.equal(redis.url, DEFAULTS.redisUrl);
  assert.equal(redis.retentionMs, DEFAULTS.retentionMs);
});

test('the worker checks a default heartbeat TTL against a longer interval given alone', () => {
  assert.throws(
    () => resolveWorkerOptions({ heartbeatIntervalMs: 6000 }),
    (e) =>
      isYadtqError(e, 'INVALID_OPTION') && /heartbeatTtlMs .* ≥ 6001, got 5000/.test(e.message),
  );
  assert.throws(
    () => resolveWorkerOptions({ monitor: { leaderTtlMs: 0 } }),
    (e) => isYadtqError(e, 'INVALID_OPTION') && /monitor\.leaderTtlMs/.test(e.message),
  );
});
