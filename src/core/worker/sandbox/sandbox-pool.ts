import { DEFAULTS } from '../../defaults.ts';
import type { TaskContext, TaskDefinition } from '../../define-task.ts';
import type { JsonValue } from '../../json.ts';
import type { RunResult } from '../run-handler.ts';
import type { SandboxKind } from './protocol.ts';
import { Sandbox } from './sandbox.ts';

/** Options of {@link SandboxPool}. */
export interface SandboxPoolOptions {
  /** How long an idle sandbox is kept for the next run. Default `DEFAULTS.sandboxIdleMs`. */
  idleMs?: number;
}

interface Idle {
  sandbox: Sandbox;
  timer: NodeJS.Timeout;
}

/**
 * The worker's sandboxes for isolated tasks (`TaskOptions.isolate`): one run per sandbox
 * at a time, a sandbox reused by later runs of tasks from the same module and kind, and
 * kept idle for a while (a thread starts in tens of ms, a process in about a hundred,
 * which a reused one does not pay). A sandbox that was ended (timeout, cancel, exit) is
 * dropped and the next run starts a new one.
 */
export class SandboxPool {
  readonly #idleMs: number;
  readonly #idle = new Map<string, Idle[]>();
  readonly #busy = new Set<Sandbox>();
  #closed = false;

  constructor(options: SandboxPoolOptions = {}) {
    this.#idleMs = options.idleMs ?? DEFAULTS.sandboxIdleMs;
  }

  /** {@link runHandler}'s contract, with the handler in a sandbox. Never rejects. */
  async run(
    definition: TaskDefinition,
    args: JsonValue,
    context: Omit<TaskContext, 'signal'>,
    timeoutMs: number,
    cancel: AbortSignal,
  ): Promise<RunResult> {
    const kind = definition.options.isolate as SandboxKind;
    const module = String(definition.options.module);
    const key = `${kind} ${module}`;
    const sandbox = this.#take(key) ?? new Sandbox(kind);
    this.#busy.add(sandbox);
    try {
      return await sandbox.run(
        { type: 'run', module, name: definition.name, args, context: { ...context } },
        timeoutMs,
        cancel,
      );
    } finally {
      this.#busy.delete(sandbox);
      this.#putBack(key, sandbox);
    }
  }

  /** Sandboxes alive now: running a task, and idle. */
  size(): { busy: number; idle: number } {
    let idle = 0;
    for (const list of this.#idle.values()) idle += list.length;
    return { busy: this.#busy.size, idle };
  }

  /** Ends every sandbox, running or idle; later runs start none to keep. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) {
      for (const { sandbox, timer } of list) {
        clearTimeout(timer);
        sandbox.end();
      }
    }
    this.#idle.clear();
    for (const sandbox of this.#busy) sandbox.end();
  }

  #take(key: string): Sandbox | undefined {
    const list = this.#idle.get(key);
    while (list !== undefined && list.length > 0) {
      const { sandbox, timer } = list.pop() as Idle;
      clearTimeout(timer);
      if (sandbox.usable) return sandbox;
    }
    return undefined;
  }

  #putBack(key: string, sandbox: Sandbox): void {
    if (!sandbox.usable) return;
    if (this.#closed) {
      sandbox.end();
      return;
    }
    const list = this.#idle.get(key) ?? [];
    this.#idle.set(key, list);
    const timer = setTimeout(() => {
      const at = list.findIndex((entry) => entry.sandbox === sandbox);
      if (at >= 0) list.splice(at, 1);
      sandbox.end();
    }, this.#idleMs);
    timer.unref();
    list.push({ sandbox, timer });
  }
}
