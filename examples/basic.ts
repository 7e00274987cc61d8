// The seed's basic client: submits a mix of tasks, waits for them, and prints statuses
// and results. Start workers first (`npx yadtq worker worker1`, `npx yadtq worker worker2`)
// against Kafka + Redis (`npm run kafka:start`), then: `node examples/basic.ts`.
// Connection settings come from the YADTQ_* environment variables (see README).
import { add, div, mul, sub } from '../src/demo.ts';
import { createKafkaRedisBackend, resolveConfig, TaskClient } from '../src/index.ts';

const backend = await createKafkaRedisBackend(resolveConfig(), { clientId: 'yadtq-basic-example' });
const client = new TaskClient({ broker: backend.broker, store: backend.store });
try {
  const submitted = [
    await client.submit(add, [1, 2]),
    await client.submit(sub, [10, 4, 300]),
    await client.submit(mul, [6, 7, 800]),
    await client.submit(div, [9, 3]),
    await client.submit(div, [1, 0]),
    await client.submit(add, [1, 2]), // identical to the first: deduplicated (or cached)
    await client.submit(add, [5, 5, 1000]),
  ];
  for (const handle of submitted) {
    const note = handle.deduplicated ? ' (deduplicated)' : handle.cached ? ' (from cache)' : '';
    console.log(`submitted ${handle.id} → ${handle.status}${note}`);
  }
  for (const handle of submitted) {
    const record = await client.wait(handle, { timeoutMs: 60_000 });
    const outcome =
      record.status === 'success'
        ? `result ${JSON.stringify(record.result)}`
        : `error: ${record.error?.message}`;
    console.log(
      `${record.id} ${record.name}${JSON.stringify(record.args)} ${record.status} on ${record.worker ?? '-'} ` +
        `(${record.cached ? 'cached' : `${record.durationMs} ms`}): ${outcome}`,
    );
  }
} finally {
  await backend.close();
}
