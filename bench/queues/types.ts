/** The queues the benchmark compares. */
export type QueueName = 'yadtq' | 'bullmq' | 'bee-queue';

export const QUEUE_NAMES: readonly QueueName[] = ['yadtq', 'bullmq', 'bee-queue'];

/** Where one run lives: every run gets a fresh queue name (topic, group, key prefix). */
export interface RunSpec {
  queue: string;
  redisUrl: string;
  kafkaBrokers: string;
  partitions: number;
}

/** What a worker process runs: the job sleeps `jobMs` (0 = a no-op). */
export interface WorkerSpec extends RunSpec {
  adapter: QueueName;
  workerId: string;
  concurrency: number;
}

/** Called by an adapter's worker as jobs start and as their outcome is stored. */
export interface WorkerHooks {
  started(): void;
  /** The handler returned (or threw). */
  ended(): void;
  /** The outcome is durably stored (the queue's own "completed" signal). */
  done(): void;
}

export interface BenchWorker {
  /** Kafka partitions owned (yadtq); undefined where the queue has no such notion. */
  assignment(): readonly number[] | undefined;
  stop(): Promise<void>;
}

export interface SubmitOptions {
  /** Sleep of each job in ms; 0 = no-op. */
  jobMs: number;
  /** yadtq only: route every task to the partition of this key. */
  partitionKey?: string;
  /** yadtq only: the tasks of this key run one at a time, in submit order (a lane). */
  orderingKey?: string;
}

/** The client side of one queue. */
export interface BenchProducer {
  /** Adds jobs `from … from + count - 1` in one bulk call (submitMany / addBulk / saveAll). */
  submitBulk(from: number, count: number, options: SubmitOptions): Promise<void>;
  /**
   * Adds one no-op job and resolves when its result is known to the client, with the ms
   * from the start until the add itself was acknowledged.
   */
  submitAndWait(i: number): Promise<number>;
  close(): Promise<void>;
}

/** One queue behind the small interface every scenario uses. */
export interface QueueAdapter {
  readonly name: QueueName;
  /** `waits`: the producer will be used for submitAndWait (subscribes to results). */
  producer(spec: RunSpec, options: { waits: boolean }): Promise<BenchProducer>;
  worker(spec: WorkerSpec, hooks: WorkerHooks): Promise<BenchWorker>;
}

/** The job body shared by the three queues: sleep `ms`, or nothing at all. */
export function runJob(ms: number): Promise<void> | undefined {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;
}

/** runJob between the hooks' started() and ended() (sync for a no-op, as runJob). */
export function countedJob(hooks: WorkerHooks, ms: number): Promise<void> | undefined {
  hooks.started();
  const running = runJob(ms);
  if (running === undefined) {
    hooks.ended();
    return undefined;
  }
  return running.finally(() => hooks.ended());
}

export async function loadAdapter(name: QueueName): Promise<QueueAdapter> {
  if (name === 'yadtq') return (await import('./yadtq.ts')).yadtqAdapter;
  if (name === 'bullmq') return (await import('./bullmq.ts')).bullmqAdapter;
  return (await import('./beequeue.ts')).beeQueueAdapter;
}

/** host and port of a redis:// URL. */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}
