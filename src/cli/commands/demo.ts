import { type Backend, createMemoryBackend } from '../../backend.ts';
import { TaskClient, type TaskHandle } from '../../core/client.ts';
import type { TaskRecord, TaskStatus } from '../../core/task-record.ts';
import { TaskWorker } from '../../core/worker/worker.ts';
import { type ArithmeticArgs, add, demoTasks, div, mul, sub } from '../../demo.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/**
 * `yadtq demo`: two workers and the seed's basic tasks in one process, showing each
 * task's lifecycle, a deduplicated submit, a cache hit, a failed division, how the tasks
 * were spread over the workers, and execution times. Embedded unless told otherwise.
 */
export const demoCommand = defineCommand({
  name: 'demo',
  summary:
    'Runs two workers and the demo tasks in one process and shows each task on its way; embedded (no servers) unless told.',
  flags: {
    kafka: {
      description: 'use the real Kafka + Redis pair (as does any connection flag or variable)',
    },
    redis: { description: 'the same as --kafka' },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('demo takes no arguments');
    const real =
      values.kafka ||
      values.redis ||
      values.brokers !== undefined ||
      values['redis-url'] !== undefined ||
      Boolean(process.env.YADTQ_KAFKA_BROKERS || process.env.YADTQ_REDIS_URL);
    const run = Date.now().toString(36);
    const backend: Backend = real
      ? await connect({ ...values, prefix: values.prefix ?? `yadtq-demo:${run}:` }, 'yadtq-demo')
      : createMemoryBackend();
    const say = (line = '') => process.stdout.write(`${line}\n`);
    const t0 = Date.now();
    const clock = () => `[${((Date.now() - t0) / 1000).toFixed(2).padStart(5)}s]`;
    say(
      `yadtq demo on the ${backend.kind === 'memory' ? 'embedded backend (in-process broker and store, no servers)' : 'real pair: Kafka + Redis'}`,
    );

    const workers = ['worker1', 'worker2'].map(
      (name) =>
        new TaskWorker({
          id: real ? `${name}-${run}` : name,
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          schedules: backend.schedules,
          tasks: demoTasks,
          concurrency: 2,
        }),
    );
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const watched = new Map<string, { label: string; status: TaskStatus | 'submitted' }>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [id, seen] of watched) {
          const record = await client.status(id);
          if (record && record.status !== seen.status) {
            say(`${clock()} ${seen.label.padEnd(16)} ${seen.status} → ${describe(record)}`);
            seen.status = record.status;
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      for (const worker of workers) await worker.start();
      say(
        `${clock()} started ${workers.map((w) => w.id).join(' and ')}; tasks: add, sub, mul, div ([a, b, sleepMs])\n`,
      );
      const submit = async (task: typeof add, args: ArithmeticArgs, note = '') => {
        const handle = await client.submit(task, args);
        const label = `${task.name}${JSON.stringify(args)}`;
        say(
          `${clock()} submit ${label.padEnd(16)} → ${handle.id}${note}${handle.deduplicated ? '  (deduplicated: same task as before)' : ''}${handle.cached ? '  (answered from the cache)' : ''}`,
        );
        if (!watched.has(handle.id)) watched.set(handle.id, { label, status: 'submitted' });
        return handle;
      };
      const handles: TaskHandle<number>[] = [
        await submit(add, [4, 5, 600]),
        await submit(sub, [10, 3, 400]),
        await submit(mul, [6, 7, 700]),
        await submit(div, [20, 4, 300]),
        await submit(div, [1, 0, 200], '  (will fail: division by zero)'),
        await submit(add, [2, 2, 500]),
        await submit(mul, [3, 3, 300]),
        await submit(sub, [9, 9, 200]),
      ];
      say();
      const duplicate = await submit(
        add,
        [4, 5, 600],
        '  (identical to the first, while it is in flight)',
      );
      say();
      const records = await Promise.all(handles.map((h) => client.wait(h, { timeoutMs: 60_000 })));
      say();
      const hit = await submit(add, [4, 5, 600], '  (identical again, after it finished)');
      const hitRecord = await client.wait(hit, { timeoutMs: 10_000 });
      // Let the watcher print the last transitions before the summary.
      await new Promise((r) => setTimeout(r, 60));
      watching = false;
      await watcher;
      say();
      say(
        `dedup:   the repeated add[4,5,600] got ${duplicate.id === handles[0]!.id ? 'the same id' : 'A NEW ID'} (${duplicate.id}); it ran once`,
      );
      say(
        `cache:   the later add[4,5,600] was answered at once from the cache: result ${hitRecord.result}, cached ${hitRecord.cached}`,
      );
      const failed = records.find((r) => r.status === 'failed');
      say(
        `failure: ${failed ? `${failed.name}${JSON.stringify(failed.args)} failed with ${failed.error?.name}: ${failed.error?.message}` : 'none (unexpected)'}`,
      );
      say();
      say('Tasks per worker:');
      const ran = records.filter((r) => r.worker !== null);
      const perWorker = new Map<string, number>(workers.map((w) => [w.id, 0]));
      for (const r of ran) perWorker.set(r.worker!, (perWorker.get(r.worker!) ?? 0) + 1);
      for (const [id, count] of perWorker)
        say(`  ${id.padEnd(10)} ${String(count).padStart(3)}  ${'█'.repeat(count)}`);
      say();
      say('Execution times:');
      say(
        table(
          ['TASK', 'ARGS', 'STATUS', 'WORKER', 'RESULT / ERROR', 'TIME'],
          [...records, hitRecord].map((r) => [
            r.name,
            JSON.stringify(r.args),
            r.status,
            r.worker ?? '-',
            r.status === 'success' ? JSON.stringify(r.result) : (r.error?.message ?? ''),
            r.cached ? 'cached' : `${r.durationMs} ms`,
          ]),
        ).replace(/^/gm, '  '),
      );
      return 0;
    } finally {
      watching = false;
      await watcher;
      for (const worker of workers) await worker.stop();
      await backend.close();
    }
  },
});

function describe(record: TaskRecord): string {
  switch (record.status) {
    case 'processing':
      return `processing on ${record.worker}`;
    case 'success':
      return `success = ${JSON.stringify(record.result)}${record.cached ? ' (cached)' : ` in ${record.durationMs} ms`}`;
    case 'failed':
      return `failed: ${record.error?.message}`;
    default:
      return record.status;
  }
}
