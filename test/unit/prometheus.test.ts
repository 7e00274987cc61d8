import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryBackend, readOverview } from '../../src/index.ts';
import { renderMetrics } from '../../src/metrics/prometheus.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';

describe('renderMetrics', () => {
  test('writes valid Prometheus text with yadtq_ names, histograms and escaped labels', async () => {
    const backend = createMemoryBackend({ partitions: 2 });
    const at = Date.now();
    const base = { workerId: 'w"1\\x', cached: false, finishedAt: at };
    await backend.stats.record({
      ...base,
      taskId: 'a',
      name: 'add',
      status: 'success',
      durationMs: 3,
    });
    await backend.stats.record({
      ...base,
      taskId: 'b',
      name: 'add',
      status: 'success',
      durationMs: 700,
    });
    await backend.stats.record({
      ...base,
      taskId: 'c',
      name: 'div',
      status: 'failed',
      durationMs: 40,
      error: 'x\ny',
    });
    const text = renderMetrics(await readOverview(backend));
    const families = parsePrometheus(text);
    for (const name of families.keys()) assert.match(name, /^yadtq_/);
    assert.equal(families.get('yadtq_tasks_total')!.type, 'counter');
    assert.equal(families.get('yadtq_task_duration_seconds')!.type, 'histogram');
    assert.equal(seriesValue(families, 'yadtq_tasks_total', { name: 'add', status: 'success' }), 2);
    assert.equal(seriesValue(families, 'yadtq_tasks_total', { name: 'div', status: 'failed' }), 1);
    assert.equal(
      seriesValue(families, 'yadtq_task_duration_seconds_bucket', { name: 'add', le: '0.005' }),
      1,
    );
    assert.equal(
      seriesValue(families, 'yadtq_task_duration_seconds_bucket', { name: 'add', le: '1' }),
      2,
    );
    assert.equal(seriesValue(families, 'yadtq_task_duration_seconds_count', { name: 'add' }), 2);
    assert.equal(seriesValue(families, 'yadtq_task_duration_seconds_sum', { name: 'add' }), 0.703);
    assert.equal(
      seriesValue(families, 'yadtq_worker_tasks_total', { worker: 'w"1\\x', status: 'success' }),
      2,
    );
    assert.equal(seriesValue(families, 'yadtq_consumer_lag', { partition: '1' }), 0);
    await backend.close();
  });

  test('the parser refuses malformed text', () => {
    assert.throws(() => parsePrometheus('yadtq_x 1\n'), /without a TYPE/);
    assert.throws(() => parsePrometheus('# TYPE yadtq_x counter\nyadtq_x{a="1} 1\n'), /bad/);
    assert.throws(() => parsePrometheus('# TYPE yadtq_x counter\nyadtq_x one\n'), /bad/);
  });
});
