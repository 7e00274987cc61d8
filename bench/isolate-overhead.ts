// What `isolate` costs per task: an echo handler run in-loop, in a worker thread and in a
// child process, through the runner alone (no queue) and end to end on the memory backend.
// Prints the cold start (first run, a new sandbox), the median and p95 of a warm run with
// small args and with ~100 KB of args, and tasks/s end to end at concurrency 8 (warm).
//   node bench/isolate-overhead.ts [--runs N]
import { parseArgs } from 'node:util';
import { runHandler } from '../src/core/worker/run-handler.ts';
import { SandboxPool } from '../src/core/worker/sandbox/sandbox-pool.ts';
import { createMemoryBackend, TaskClient, type TaskDefinition, TaskWorker } from '../src/index.ts';
import { inLoop, inProcess, inThread } from './isolate-tasks.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '500' } } });
const RUNS = Number(values.runs);
const SMALL = 42;
const LARGE = Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(40) }));
const never = new AbortController().signal;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const ms = (n: number) => `${n.toFixed(3)} ms`;

async function direct(label: string, definition: TaskDefinition) {
  const pool = new SandboxPool();
  const run = (args: unknown) => {
    const context = { taskId: 't', attempt: 1, workerId: 'bench' };
    return definition.options.isolate === undefined
      ? runHandler(definition, args as never, context, 30_000, never)
      : pool.run(definition, args as never, context, 30_000, never);
  };
  let started = performance.now();
  await run(SMALL);
  const cold = performance.now() - started;
  const figures: string[] = [`cold ${ms(cold)}`];
  for (const [name, args] of [
    ['small', SMALL],
    ['100KB', LARGE],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      started = performance.now();
      const result = await run(args);
      times.push(performance.now() - started);
      if (result.status !== 'success') throw new Error(`${label}: ${JSON.stringify(result)}`);
    }
    times.sort((a, b) => a - b);
    figures.push(`${name} p50 ${ms(quantile(times, 0.5))} p95 ${ms(quantile(times, 0.95))}`);
  }
  pool.close();
  console.log(`runner  ${label.padEnd(8)} ${figures.join(' | ')}`);
}

async function endToEnd(label: string, definition: TaskDefinition) {
  const backend = createMemoryBackend();
  const worker = new TaskWorker({
    id: `bench-${label}`,
    broker: backend.broker,
    store: backend.store,
    registry: backend.registry,
    monitorStore: backend.monitorStore,
    tasks: [definition],
    concurrency: 8,
    monitor: false,
  });
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  await worker.start();
  // Warm: one sandbox per slot is started before the clock runs.
  const warm = await client.submitMany(
    definition,
    Array.from({ length: 16 }, (_, i) => i),
    {
      dedup: false,
    },
  );
  for (const handle of warm) await client.wait(handle, { timeoutMs: 60_000 });
  const started = performance.now();
  const handles = await client.submitMany(
    definition,
    Array.from({ length: RUNS * 4 }, (_, i) => i),
    { dedup: false },
  );
  for (const handle of handles) await client.wait(handle, { timeoutMs: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  await backend.close();
  console.log(
    `queue   ${label.padEnd(8)} ${(handles.length / seconds).toFixed(0)} tasks/s (${handles.length} tasks, concurrency 8)`,
  );
}

for (const [label, definition] of [
  ['in-loop', inLoop],
  ['thread', inThread],
  ['process', inProcess],
] as const) {
  await direct(label, definition as TaskDefinition);
}
for (const [label, definition] of [
  ['in-loop', inLoop],
  ['thread', inThread],
  ['process', inProcess],
] as const) {
  await endToEnd(label, definition as TaskDefinition);
}
