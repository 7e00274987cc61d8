// The chaos run's worker processes: `yadtq worker` through chaos/cli.ts, one per slot,
// their stderr into one log file; a worker that exits by itself is restarted like a
// supervisor would (and counted), a SIGKILLed one is restarted under a new id.
import { type ChildProcess, spawn } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT as ROOT } from '../scripts/services/index.ts';
import type { ChaosReport } from './report.ts';

/** One kept-running worker: its index, how often it was restarted, its current process. */
export interface Slot {
  index: number;
  restarts: number;
  id: string;
  child: ChildProcess;
  killing: boolean;
}

export class WorkerFleet {
  readonly slots: Slot[] = [];
  readonly unexpectedExits: ChaosReport['workers']['unexpectedExits'] = [];
  /** Worker processes started, restarts included. */
  started = 0;
  /** The chaos phase's start (exits are reported relative to it). */
  t0 = Date.now();
  #stopping = false;
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: WriteStream;
  readonly #say: (line: string) => void;
  readonly #concurrency: number | undefined;

  constructor(options: {
    env: NodeJS.ProcessEnv;
    workerLog: WriteStream;
    log: (line: string) => void;
    concurrency: number | undefined;
  }) {
    this.#env = options.env;
    this.#log = options.workerLog;
    this.#say = options.log;
    this.#concurrency = options.concurrency;
  }

  /** Starts the worker of slot `index` (its `restarts`-th restart: id `w<index+1>-r<n>`). */
  spawn(index: number, restarts: number): Slot {
    const id = restarts === 0 ? `w${index + 1}` : `w${index + 1}-r${restarts}`;
    const args = [join(ROOT, 'chaos', 'cli.ts'), 'worker', id];
    args.push('--tasks', join(ROOT, 'chaos', 'tasks.ts'));
    if (this.#concurrency !== undefined) args.push('--concurrency', String(this.#concurrency));
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: this.#env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.started++;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString().replace(/\n(?=.)/g, `\n${id} `);
      this.#log.write(`${id} ${text}`);
    });
    const slot: Slot = { index, restarts, id, child, killing: false };
    this.slots[index] = slot;
    child.once('exit', (code) => {
      if (slot.killing || this.#stopping) return;
      // A worker that could not start (Kafka down) or crashed: a supervisor restarts it.
      this.unexpectedExits.push({ workerId: id, atMs: Date.now() - this.t0, code });
      this.#say(`worker ${id} exited by itself (code ${code}); restarting it`);
      setTimeout(() => {
        if (!this.#stopping && this.slots[index] === slot) this.spawn(index, restarts + 1);
      }, 1000);
    });
    return slot;
  }

  /** Workers not exited and not being killed. */
  alive(): Slot[] {
    return this.slots.filter((slot) => slot.child.exitCode === null && !slot.killing);
  }

  /** SIGKILLs the slot's worker, waits for its exit; the caller restarts it. */
  async kill(slot: Slot): Promise<number> {
    slot.killing = true;
    const exited = new Promise((resolve) => slot.child.once('exit', resolve));
    const at = Date.now();
    slot.child.kill('SIGKILL');
    await exited;
    return at;
  }

  /** Stops every worker (SIGTERM, then SIGKILL after 15 s) and restarts none. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.slots.map((slot) => stopWorker(slot.child)));
  }
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(15_000, false)])) === false) {
    child.kill('SIGKILL');
    await exited;
  }
}
