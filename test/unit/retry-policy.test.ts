import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, isRetryable } from '../../src/core/worker/retry-policy.ts';
import { defineTask, NonRetryableError, YadtqError } from '../../src/index.ts';

test('backoff doubles per attempt, is capped, and its jitter stays within half of it', () => {
  const task = defineTask('t', () => 1, { backoffMs: 100, backoffMaxMs: 1000 });
  assert.equal(
    backoffDelay(1, task, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, task, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(2, task, () => 1),
    200,
  );
  assert.equal(
    backoffDelay(3, task, () => 0.5),
    300,
  );
  assert.equal(
    backoffDelay(10, task, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(10, task, () => 0),
    500,
  );
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(4, task);
    assert.ok(d >= 400 && d <= 800, `delay ${d}`);
  }
});

test('backoff uses the defaults without a definition', () => {
  assert.equal(
    backoffDelay(1, undefined, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(30, undefined, () => 1),
    60_000,
  );
});

test('retryable: ordinary errors and timeouts yes; NonRetryableError, retryable:false and bad input no', () => {
  assert.equal(isRetryable(new Error('x')), true);
  assert.equal(isRetryable('a string'), true);
  assert.equal(isRetryable(new YadtqError('TASK_TIMEOUT', 't')), true);
  assert.equal(isRetryable(new NonRetryableError('no')), false);
  assert.equal(isRetryable(Object.assign(new Error('no'), { retryable: false })), false);
  assert.equal(isRetryable(new YadtqError('UNKNOWN_TASK', 'u')), false);
  assert.equal(isRetryable(new YadtqError('INVALID_RESULT', 'r')), false);
});
