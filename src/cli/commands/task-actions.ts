import { parseArgs } from 'node:util';
import { TaskClient } from '../../core/client.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { UsageError } from '../usage.ts';

/** `yadtq cancel <taskId>`: a waiting task is never run; a running one is told to stop. */
export function cancelCommand(argv: string[]): Promise<number> {
  return withTask('cancel', argv, async (client, id) => {
    const { cancelled, status } = await client.cancel(id);
    process.stdout.write(`${JSON.stringify({ id, cancelled, status })}\n`);
    return cancelled ? 0 : 1;
  });
}

/** `yadtq retry <taskId>`: a failed or cancelled task runs again as its next attempt. */
export function retryCommand(argv: string[]): Promise<number> {
  return withTask('retry', argv, async (client, id) => {
    const handle = await client.retry(id);
    process.stdout.write(`${handle.id}\n`);
    return 0;
  });
}

async function withTask(
  command: string,
  argv: string[],
  act: (client: TaskClient, id: string) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: CONNECTION_FLAGS,
  });
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one <taskId>`);
  const backend = await connect(values);
  try {
    return await act(
      new TaskClient({ broker: backend.broker, store: backend.store }),
      positionals[0]!,
    );
  } finally {
    await backend.close();
  }
}
