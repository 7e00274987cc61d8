import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, type ErrorCode } from '../../src/core/errors.ts';
import { backoffDelay, isRetriable } from '../../src/core/worker/retry-policy.ts';
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
  assert.equal(isRetriable(new Error('x')), true);
  assert.equal(isRetriable('a string'), true);
  assert.equal(isRetriable(new YadtqError('TASK_TIMEOUT', 't')), true);
  assert.equal(isRetriable(new NonRetryableError('no')), false);
  assert.equal(isRetriable(Object.assign(new Error('no'), { retryable: false })), false);
  assert.equal(isRetriable(new YadtqError('UNKNOWN_TASK', 'u')), false);
  assert.equal(isRetriable(new YadtqError('INVALID_RESULT', 'r')), false);
});

test('the retry policy reads the one flag, retriable: each code says it, a constructor may override it', () => {
  assert.equal(isRetriable(Object.assign(new Error('no'), { retriable: false })), false);
  assert.equal(isRetriable(Object.assign(new Error('yes'), { retriable: true })), true);
  assert.equal(new NonRetryableError('no').retriable, false);
  for (const [code, { retriable }] of Object.entries(ERROR_CODES)) {
    const error = new YadtqError(code as ErrorCode, code);
    assert.equal(error.retriable, retriable, code);
    assert.equal(isRetriable(error), retriable, code);
  }
  assert.equal(
    isRetriable(new YadtqError('BROKER_UNAVAILABLE', 'login refused', { retriable: false })),
    false,
  );
  assert.equal(isRetriable(new YadtqError('INVALID_OPTION', 'forced', { retriable: true })), true);
  assert.equal(isRetriable(null), true);
  assert.equal(isRetriable(undefined), true);
});
