import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatOverview } from '../../src/cli/commands/stats.ts';
import { createMemoryBackend, readOverview } from '../../src/index.ts';
import { renderMetrics } from '../../src/metrics/prometheus.ts';
import { envelope, record, T0 } from '../contract/store-fixtures.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';

test('parked tasks show in the overview, yadtq stats and /metrics, per group', async () => {
  const backend = createMemoryBackend();
  try {
    const lane = [1, 2, 3].map(() => record({ dedupKey: null, orderingKey: 'tenant-a' }));
    await backend.store.createMany(lane, { dedup: false, useCache: false });
    for (const r of lane) await backend.store.claim(envelope(r), 'w1', T0 + 10);
    const limited = [1, 2].map(() => record({ dedupKey: null }));
    await backend.store.createMany(limited, { dedup: false, useCache: false });
    const gates = { concurrency: { group: 'limit:sync', limit: 1 } };
    for (const r of limited)
      await backend.store.claim(envelope(r), 'w1', T0, undefined, undefined, gates);

    const overview = await readOverview(backend);
    assert.deepEqual(overview.parked, {
      total: 3,
      groups: [
        { group: 'lane:tenant-a', tasks: 2 },
        { group: 'limit:sync', tasks: 1 },
      ],
      groupCount: 2,
    });
    const text = formatOverview(overview);
    assert.match(text, /WAITING ON\s+PARKED/);
    assert.match(text, /lane:tenant-a\s+2/);
    assert.match(text, /Parked 3 task\(s\) in 2 group\(s\)/);
    const metrics = parsePrometheus(renderMetrics(overview));
    assert.equal(seriesValue(metrics, 'yadtq_tasks_parked', {}), 3);
    assert.equal(seriesValue(metrics, 'yadtq_tasks_parked_by_group', { group: 'limit:sync' }), 1);
  } finally {
    await backend.close();
  }
});
