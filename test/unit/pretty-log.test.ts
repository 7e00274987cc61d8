import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prettyLine } from '../../src/cli/pretty-log.ts';

test('pretty log lines lead with time, level, worker and task ids', () => {
  const line = prettyLine(
    new Date('2026-01-02T03:04:05.678Z'),
    'info',
    'task success',
    { taskId: '01ABC', workerId: 'w1', task: 'add', error: 'two words' },
    false,
  );
  assert.equal(line, '03:04:05.678 INFO  w1 task 01ABC task success task=add error="two words"');
});
