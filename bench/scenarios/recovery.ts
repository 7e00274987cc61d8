import { murmur2 } from '@platformatic/kafka';
import { type BenchContext, freshRun, workerSpecs } from '../lib/context.ts';
import { Fleet, WorkerProcess } from '../lib/fleet.ts';
import { loadAdapter, type QueueName } from '../queues/types.ts';

export interface RecoveryOptions {
  tasks: number;
  jobMs: number;
  timeoutMs: number;
}

export interface RecoveryResult {
  queue: QueueName;
  tasks: number;
  jobMs: number;
  /** SIGKILL of the worker holding every task → the last of them stored done by the other. */
  recoveryMs: number | null;
  /** recoveryMs minus the job's own run time: how long the tasks sat orphaned. */
  detectionMs: number | null;
  recovered: number;
  error?: string;
}

/** A key of `prefix-N` that the Kafka producer sends to one of `partitions` (murmur2, Java-compatible). */
function keyFor(owned: readonly number[], partitions: number): string {
  for (let n = 0; ; n++) {
    const key = `route-${n}`;
    if (owned.includes((murmur2(Buffer.from(key)) & 0x7fffffff) % partitions)) return key;
  }
}

/**
 * Worker A holds `tasks` sleeping jobs; A is SIGKILLed; worker B, already running, must
 * finish them. yadtq: A and B share the group and every task goes to a partition of A.
 * BullMQ and bee-queue: A takes every job alone, then B starts, then A is killed.
 */
export async function recovery(
  context: BenchContext,
  options: RecoveryOptions,
): Promise<RecoveryResult[]> {
  const results: RecoveryResult[] = [];
  for (const queue of context.queues) {
    const adapter = await loadAdapter(queue);
    const spec = await freshRun(context, `rec-${queue}`);
    const [specA, specB] = workerSpecs(spec, queue, 2, Math.max(50, options.tasks));
    const producer = await adapter.producer(spec, { waits: false });
    const workers: WorkerProcess[] = [];
    const result: RecoveryResult = {
      queue,
      tasks: options.tasks,
      jobMs: options.jobMs,
      recoveryMs: null,
      detectionMs: null,
      recovered: 0,
    };
    try {
      let a: WorkerProcess;
      let b: WorkerProcess;
      let partitionKey: string | undefined;
      if (queue === 'yadtq') {
        const fleet = new Fleet([specA!, specB!]);
        workers.push(...fleet.workers);
        [a, b] = fleet.workers as [WorkerProcess, WorkerProcess];
        await fleet.ready(context.partitions);
        partitionKey = keyFor(a.last?.assignment ?? [], context.partitions);
      } else {
        a = new WorkerProcess(specA!);
        workers.push(a);
        await a.ready();
      }
      await producer.submitBulk(0, options.tasks, {
        jobMs: options.jobMs,
        ...(partitionKey === undefined ? {} : { partitionKey }),
      });
      await a.until((r) => r.started >= options.tasks, 60_000, 'A did not start every task');
      if (queue !== 'yadtq') {
        b = new WorkerProcess(specB!);
        workers.push(b);
        await b.ready();
      }
      const killedAt = Date.now();
      a.kill();
      await b!.until((r) => r.done >= options.tasks, options.timeoutMs, 'B did not finish them');
      result.recovered = b!.last?.done ?? 0;
      result.recoveryMs = (b!.last?.lastDoneAt ?? 0) - killedAt;
      result.detectionMs = result.recoveryMs - options.jobMs;
      context.log(`recovery ${queue}: ${result.recoveryMs} ms for ${options.tasks} tasks`);
    } catch (error) {
      result.error = String((error as Error).message ?? error);
      result.recovered = workers[1]?.last?.done ?? 0;
      context.log(`recovery ${queue}: FAILED ${result.error}`);
    } finally {
      await producer.close().catch(() => {});
      await Promise.all(workers.map((w) => w.stop()));
    }
    results.push(result);
  }
  return results;
}
