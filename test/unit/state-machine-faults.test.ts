import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, holdsFinish } from '../../src/core/state-machine.ts';
import type { TaskRecord, TaskStatus } from '../../src/core/task-record.ts';

const NOW = 1_764_000_010_000;

function rec(status: TaskStatus, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 't1',
    name: 'n',
    args: null,
    status,
    attempt: 2,
    maxAttempts: 3,
    timeoutMs: 1000,
    worker: 'w1',
    submittedAt: NOW - 5000,
    startedAt: NOW - 1000,
    finishedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dedupKey: 'k',
    cached: false,
    useCache: true,
    runAt: null,
    losses: 0,
    cancelRequested: false,
    ...extra,
  };
}

const ALL: TaskStatus[] = ['queued', 'processing', 'retrying', 'success', 'failed', 'cancelled'];

test('cancel: waiting ends cancelled, running is marked, terminal is refused', () => {
  for (const status of ALL) {
    const t = decide(rec(status), { type: 'cancel', now: NOW });
    if (status === 'queued' || status === 'retrying') {
      assert.ok(t.ok);
      assert.equal(t.record.status, 'cancelled');
      assert.equal(t.record.error?.code, 'TASK_CANCELLED');
      assert.equal(t.record.finishedAt, NOW);
      assert.equal(t.record.runAt, null);
    } else if (status === 'processing') {
      assert.ok(t.ok);
      assert.equal(t.record.status, 'processing');
      assert.equal(t.record.cancelRequested, true);
    } else {
      assert.deepEqual(t, { ok: false, reason: 'terminal' });
    }
  }
});

test('requeue: only a processing task of the dead holder; losses count up to failed, cancel wins', () => {
  const back = decide(rec('processing'), {
    type: 'requeue',
    workerId: 'w1',
    now: NOW,
    maxLosses: 3,
  });
  assert.ok(back.ok);
  assert.equal(back.record.status, 'queued');
  assert.equal(back.record.losses, 1);
  assert.equal(back.record.attempt, 2);
  assert.equal(back.record.startedAt, null);
  const lost = decide(rec('processing', { losses: 2 }), {
    type: 'requeue',
    workerId: 'w1',
    now: NOW,
    maxLosses: 3,
  });
  assert.ok(lost.ok);
  assert.equal(lost.record.status, 'failed');
  assert.equal(lost.record.error?.code, 'WORKER_LOST');
  const cancelled = decide(rec('processing', { cancelRequested: true }), {
    type: 'requeue',
    workerId: 'w1',
    now: NOW,
    maxLosses: 3,
  });
  assert.ok(cancelled.ok);
  assert.equal(cancelled.record.status, 'cancelled');
  assert.deepEqual(
    decide(rec('processing'), { type: 'requeue', workerId: 'w2', now: NOW, maxLosses: 3 }),
    { ok: false, reason: 'not-holder' },
  );
  assert.deepEqual(
    decide(rec('queued'), { type: 'requeue', workerId: 'w1', now: NOW, maxLosses: 3 }),
    { ok: false, reason: 'not-holder' },
  );
  assert.deepEqual(
    decide(rec('success'), { type: 'requeue', workerId: 'w1', now: NOW, maxLosses: 3 }),
    { ok: false, reason: 'terminal' },
  );
});

test('promote: a waiting task of the same attempt becomes queued without runAt', () => {
  const t = decide(rec('retrying', { runAt: NOW }), { type: 'promote', attempt: 2, now: NOW });
  assert.ok(t.ok);
  assert.equal(t.record.status, 'queued');
  assert.equal(t.record.runAt, null);
  assert.deepEqual(decide(rec('retrying'), { type: 'promote', attempt: 1, now: NOW }), {
    ok: false,
    reason: 'stale-attempt',
  });
  assert.deepEqual(decide(rec('processing'), { type: 'promote', attempt: 2, now: NOW }), {
    ok: false,
    reason: 'not-waiting',
  });
  assert.deepEqual(decide(rec('failed'), { type: 'promote', attempt: 2, now: NOW }), {
    ok: false,
    reason: 'terminal',
  });
});

test('resubmit: failed and cancelled get one more attempt; others are refused', () => {
  for (const status of ALL) {
    const t = decide(
      rec(status, { attempt: 3, maxAttempts: 3, error: { message: 'x' }, losses: 2 }),
      { type: 'resubmit', now: NOW },
    );
    if (status === 'failed' || status === 'cancelled') {
      assert.ok(t.ok);
      assert.equal(t.record.status, 'queued');
      assert.equal(t.record.attempt, 4);
      assert.equal(t.record.maxAttempts, 4);
      assert.equal(t.record.error, null);
      assert.equal(t.record.losses, 0);
    } else {
      assert.deepEqual(t, { ok: false, reason: 'not-retryable' });
    }
  }
});

test('finish: a failure with retryAt and attempts left waits as retrying; on the last attempt it fails', () => {
  const error = { message: 'boom' };
  const retry = decide(rec('processing'), {
    type: 'finish',
    workerId: 'w1',
    attempt: 2,
    now: NOW,
    outcome: { status: 'failed', error, retryAt: NOW + 500 },
  });
  assert.ok(retry.ok);
  assert.equal(retry.record.status, 'retrying');
  assert.equal(retry.record.attempt, 3);
  assert.equal(retry.record.runAt, NOW + 500);
  assert.deepEqual(retry.record.error, error);
  const last = decide(rec('processing', { attempt: 3 }), {
    type: 'finish',
    workerId: 'w1',
    attempt: 3,
    now: NOW,
    outcome: { status: 'failed', error, retryAt: NOW + 500 },
  });
  assert.ok(last.ok);
  assert.equal(last.record.status, 'failed');
  assert.equal(last.record.attempt, 3);
  const cancelled = decide(rec('processing'), {
    type: 'finish',
    workerId: 'w1',
    attempt: 2,
    now: NOW,
    outcome: { status: 'cancelled' },
  });
  assert.ok(cancelled.ok);
  assert.equal(cancelled.record.status, 'cancelled');
});

test('holdsFinish: only the same worker, attempt, outcome and time', () => {
  const done = rec('success', { finishedAt: NOW, result: 1 });
  const step = { workerId: 'w1', attempt: 2, now: NOW, status: 'success' as const };
  assert.equal(holdsFinish(done, step), true);
  assert.equal(holdsFinish(done, { ...step, now: NOW + 1 }), false);
  assert.equal(holdsFinish(done, { ...step, workerId: 'w2' }), false);
  assert.equal(holdsFinish(done, { ...step, attempt: 1 }), false);
  assert.equal(holdsFinish(done, { ...step, status: 'failed' }), false);
  assert.equal(holdsFinish(null, step), false);
  const retrying = rec('retrying', { attempt: 3, finishedAt: NOW });
  assert.equal(holdsFinish(retrying, { ...step, status: 'failed' }), true);
  assert.equal(holdsFinish(retrying, { ...step, status: 'failed', attempt: 3 }), false);
  assert.equal(holdsFinish(rec('processing', { finishedAt: NOW }), step), false);
});
