import { type ChildProcess, fork } from 'node:child_process';
import type { WorkerSpec } from '../queues/types.ts';
import type { WorkerReport } from '../worker-process.ts';

const ENTRY = new URL('../worker-process.ts', import.meta.url);

/** One forked worker process and its latest report. */
export class WorkerProcess {
  readonly spec: WorkerSpec;
  readonly child: ChildProcess;
  last: WorkerReport | undefined;
  exited = false;
  #listeners = new Set<() => void>();
  #failure: Error | undefined;

  constructor(spec: WorkerSpec, execArgv: string[] = []) {
    this.spec = spec;
    this.child = fork(ENTRY, [JSON.stringify(spec)], {
      execArgv: [...process.execArgv, ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: WorkerReport) => {
      this.last = message;
      if (message.type === 'failed')
        this.#failure = new Error(`${spec.workerId}: ${message.error}`);
      this.#notify();
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.#notify();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Resolves when `test` holds on a report; rejects on failure, exit or timeout. */
  until(test: (report: WorkerReport) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#failure !== undefined) finish(this.#failure);
        else if (this.last !== undefined && test(this.last)) finish();
        else if (this.exited) finish(new Error(`${this.spec.workerId} exited: ${what}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.spec.workerId}: timed out after ${timeoutMs} ms: ${what}`)),
        timeoutMs,
      );
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#listeners.add(check);
      check();
    });
  }

  ready(timeoutMs = 60_000): Promise<void> {
    return this.until(() => true, timeoutMs, 'not ready');
  }

  /** Graceful stop; resolves with the last report. */
  async stop(timeoutMs = 30_000): Promise<WorkerReport | undefined> {
    if (this.exited) return this.last;
    this.child.send({ type: 'stop' });
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    return this.last;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Several worker processes of one queue. */
export class Fleet {
  readonly workers: WorkerProcess[];

  constructor(specs: WorkerSpec[], execArgv: string[] = []) {
    this.workers = specs.map((spec) => new WorkerProcess(spec, execArgv));
  }

  /**
   * Waits until every worker is ready and, for a consumer group (yadtq), until the
   * partitions are spread over all members and stayed so for 500 ms.
   */
  async ready(partitions: number, timeoutMs = 90_000): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready(timeoutMs)));
    if (this.workers[0]?.last?.assignment === undefined) return;
    const deadline = Date.now() + timeoutMs;
    let stableSince = 0;
    while (Date.now() < deadline) {
      const owned = this.workers.map((w) => w.last?.assignment?.length ?? 0);
      const spread = owned.every((n) => n > 0) && owned.reduce((a, b) => a + b, 0) === partitions;
      if (!spread) stableSince = 0;
      else if (stableSince === 0) stableSince = Date.now();
      else if (Date.now() - stableSince >= 500) return;
      await sleep(50);
    }
    throw new Error('the consumer group did not settle on an assignment');
  }

  get done(): number {
    return this.workers.reduce((sum, w) => sum + (w.last?.done ?? 0), 0);
  }

  /** Resolves with the wall-clock time of the last stored outcome once `total` are done. */
  async allDone(total: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.done < total) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.done} of ${total} jobs done after ${timeoutMs} ms`);
      if (this.workers.every((w) => w.exited)) throw new Error('every worker process exited');
      await sleep(20);
    }
    return Math.max(...this.workers.map((w) => w.last?.lastDoneAt ?? 0));
  }

  stop(): Promise<Array<WorkerReport | undefined>> {
    return Promise.all(this.workers.map((w) => w.stop()));
  }

  pids(): number[] {
    return this.workers.map((w) => w.pid);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
