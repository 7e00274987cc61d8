// The program a sandbox runs, in a worker thread or a child process: it imports the
// module that defines an isolated task, runs the handler, and answers with the outcome.
// The worker enforces timeouts and cancels by ending the sandbox, so no limit applies here.
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { isolatedDefinition, type TaskDefinition } from '../../define-task.ts';
import { YadtqError } from '../../errors.ts';
import { isRetriable } from '../retry-policy.ts';
import { errorInfo, runHandler } from '../run-handler.ts';
import type { RunRequest, SandboxReply } from './protocol.ts';

/** setTimeout's largest delay: the worker, not this program, decides when a run is over. */
const NO_LIMIT_MS = 2_147_483_647;
const never = new AbortController().signal;

const send: (reply: SandboxReply, then?: () => void) => void = parentPort
  ? (reply, then) => {
      parentPort?.postMessage(reply);
      then?.();
    }
  : (reply, then) => {
      process.send?.(reply, undefined, {}, () => then?.());
    };

function onRequest(listener: (request: RunRequest) => void): void {
  if (parentPort) parentPort.on('message', listener);
  else process.on('message', (message) => listener(message as RunRequest));
}

if (!parentPort) {
  // A thread's uncaught exception reaches the worker as an 'error' event; a child
  // process has to say so itself before it dies, or only an exit code would be known.
  process.on('uncaughtException', (error) => {
    send({ type: 'crashed', error: errorInfo(error) }, () => process.exit(1));
  });
  process.on('disconnect', () => process.exit(0));
}

async function load(module: string, name: string): Promise<TaskDefinition> {
  let exports: Record<string, unknown>;
  try {
    const url = module.startsWith('file:') ? module : pathToFileURL(module).href;
    exports = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new YadtqError(
      'SANDBOX_LOAD_FAILED',
      `the sandbox could not import ${module} (which defines task "${name}"): ${String(error)}`,
      { cause: error },
    );
  }
  const definition =
    isolatedDefinition(module, name) ??
    Object.values(exports).find(
      (value): value is TaskDefinition => (value as TaskDefinition | null)?.name === name,
    );
  if (typeof definition?.handler !== 'function') {
    throw new YadtqError(
      'SANDBOX_LOAD_FAILED',
      `${module} does not define task "${name}" when imported; define it at the module's top level or pass { module }`,
    );
  }
  return definition;
}

onRequest(async (request) => {
  try {
    const definition = await load(request.module, request.name);
    const result = await runHandler(definition, request.args, request.context, NO_LIMIT_MS, never);
    send({ type: 'done', result });
  } catch (error) {
    send({
      type: 'done',
      result: { status: 'failed', error: errorInfo(error), retriable: isRetriable(error) },
    });
  }
});
