import { type ChildProcess, fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { YadtqError } from '../../errors.ts';
import type { TaskErrorInfo } from '../../task-record.ts';
import { isRetriable } from '../retry-policy.ts';
import { errorInfo, type RunResult } from '../run-handler.ts';
import type { RunRequest, SandboxKind, SandboxReply } from './protocol.ts';

// The entry has this file's extension: .ts when run from source, .js when built.
const ENTRY = new URL(`./sandbox-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * One worker thread or child process that runs isolated handlers, one at a time. A run
 * ends with the sandbox's answer, or the sandbox is ended: at the time limit
 * (TASK_TIMEOUT), at a cancel, or by the handler itself (SANDBOX_EXITED). An ended
 * sandbox is not {@link Sandbox.usable} again.
 */
export class Sandbox {
  readonly kind: SandboxKind;
  #thread: Worker | undefined;
  #child: ChildProcess | undefined;
  #ended = false;
  #answer:
    | ((reply: SandboxReply | { type: 'exit'; code: number | null; signal?: string }) => void)
    | undefined;

  constructor(kind: SandboxKind) {
    this.kind = kind;
    if (kind === 'thread') {
      const thread = new Worker(ENTRY);
      thread.on('message', (reply: SandboxReply) => this.#answer?.(reply));
      thread.on('error', (error) => this.#answer?.({ type: 'crashed', error: errorInfo(error) }));
      thread.on('exit', (code) => this.#exited(code));
      this.#thread = thread;
    } else {
      // The test runner's own flags would make the child a test runner too.
      const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--test'));
      const child = fork(fileURLToPath(ENTRY), [], { execArgv, serialization: 'advanced' });
      child.on('message', (reply: SandboxReply) => this.#answer?.(reply));
      child.on('error', (error) => this.#answer?.({ type: 'crashed', error: errorInfo(error) }));
      child.on('exit', (code, signal) => this.#exited(code, signal ?? undefined));
      this.#child = child;
    }
    this.#hold(false);
  }

  /** False once the sandbox ended (or is being ended): it takes no more runs. */
  get usable(): boolean {
    return !this.#ended;
  }

  /** Runs one task; never rejects. */
  run(request: RunRequest, timeoutMs: number, cancel: AbortSignal): Promise<RunResult> {
    const { taskId } = request.context;
    const what = `task ${taskId} (${request.name})`;
    return new Promise<RunResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (result: RunResult) => {
        clearTimeout(timer);
        cancel.removeEventListener('abort', onCancel);
        this.#answer = undefined;
        this.#hold(false);
        resolve(result);
      };
      const onCancel = () => {
        this.end();
        done({ status: 'cancelled' });
      };
      this.#answer = (reply) => {
        if (reply.type === 'done') return done(reply.result);
        this.#ended = true;
        const how =
          reply.type === 'crashed'
            ? `ended on an uncaught exception: ${reply.error.message}`
            : `exited (${reply.signal === undefined ? `code ${reply.code}` : `signal ${reply.signal}`})`;
        done(
          failed(
            new YadtqError('SANDBOX_EXITED', `${what}: its ${this.kind} sandbox ${how}`, {
              retriable: true,
            }),
            reply.type === 'crashed' ? reply.error : undefined,
          ),
        );
      };
      if (this.#ended) {
        this.#answer({ type: 'exit', code: null });
        return;
      }
      if (cancel.aborted) return onCancel();
      cancel.addEventListener('abort', onCancel, { once: true });
      timer = setTimeout(() => {
        this.end();
        done(
          failed(
            new YadtqError(
              'TASK_TIMEOUT',
              `${what} timed out after ${timeoutMs} ms; its ${this.kind} sandbox was ended`,
              { retriable: true },
            ),
          ),
        );
      }, timeoutMs);
      this.#hold(true);
      if (this.#thread) this.#thread.postMessage(request);
      else this.#child?.send(request);
    });
  }

  /** Ends the sandbox at once, whatever it is running. */
  end(): void {
    this.#ended = true;
    void this.#thread?.terminate();
    if (this.#child?.exitCode === null && this.#child.signalCode === null)
      this.#child.kill('SIGKILL');
  }

  #exited(code: number | null, signal?: string): void {
    this.#ended = true;
    this.#answer?.({ type: 'exit', code, ...(signal === undefined ? {} : { signal }) });
  }

  /** An idle sandbox must not keep the worker's process alive. */
  #hold(busy: boolean): void {
    if (busy) {
      this.#thread?.ref();
      this.#child?.ref();
      this.#child?.channel?.ref();
    } else {
      this.#thread?.unref();
      this.#child?.unref();
      this.#child?.channel?.unref();
    }
  }
}

function failed(error: YadtqError, cause?: TaskErrorInfo): RunResult {
  const info = errorInfo(error);
  if (cause?.stack !== undefined) info.stack = cause.stack;
  return { status: 'failed', error: info, retriable: isRetriable(error) };
}
