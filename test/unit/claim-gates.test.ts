import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimGates } from '../../src/core/concurrency.ts';

describe('claimGates: the groups a worker claims a task under', () => {
  test('none without limits; the name, or the name and key, with them', () => {
    const none = claimGates('sync', {}, { tenant: 'a' }, () => assert.fail('no key error'));
    assert.equal(none, undefined);
    const gates = claimGates(
      'sync',
      {
        concurrency: { limit: 2, key: (args) => (args as { tenant: string }).tenant },
        rateLimit: { limit: 5, intervalMs: 1000 },
      },
      { tenant: 'a' },
      () => assert.fail('no key error'),
    );
    assert.deepEqual(gates, {
      concurrency: { group: 'limit:sync:a', limit: 2 },
      rate: { group: 'rate:sync', limit: 5, intervalMs: 1000 },
    });
  });

  test('a key that throws or gives no valid key is reported; the task counts in the name-wide group', () => {
    const errors: string[] = [];
    const throwing = claimGates(
      'sync',
      {
        concurrency: {
          limit: 1,
          key: () => {
            throw new Error('no tenant');
          },
        },
      },
      {},
      (why) => errors.push(why),
    );
    assert.deepEqual(throwing?.concurrency, { group: 'limit:sync', limit: 1 });
    const empty = claimGates(
      'sync',
      { rateLimit: { limit: 1, intervalMs: 10, key: () => '' } },
      {},
      (why) => errors.push(why),
    );
    assert.deepEqual(empty?.rate, { group: 'rate:sync', limit: 1, intervalMs: 10 });
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /concurrency\.key threw: Error: no tenant/);
    assert.match(errors[1]!, /rateLimit\.key gave no string of 1 to 1000 characters/);
  });
});
