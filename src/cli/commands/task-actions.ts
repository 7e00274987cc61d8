import { TaskClient } from '../../core/client.ts';
import { type Command, defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';

/** `yadtq cancel <taskId>`: a waiting task is never run; a running one is told to stop. */
export const cancelCommand = taskCommand(
  'cancel',
  'Cancels a task: a waiting one is never run, a running one has its abort signal fired.',
  async (client, id) => {
    const { cancelled, status } = await client.cancel(id);
    process.stdout.write(`${JSON.stringify({ id, cancelled, status })}\n`);
    return cancelled ? 0 : 1;
  },
);

/** `yadtq retry <taskId>`: a failed or cancelled task runs again as its next attempt. */
export const retryCommand = taskCommand(
  'retry',
  'Runs a failed or cancelled task again, as its next attempt.',
  async (client, id) => {
    const handle = await client.retry(id);
    process.stdout.write(`${handle.id}\n`);
    return 0;
  },
);

function taskCommand(
  name: string,
  summary: string,
  act: (client: TaskClient, id: string) => Promise<number>,
): Command {
  return defineCommand({
    name,
    args: '<taskId>',
    summary,
    flags: {},
    run: async (values, positionals) => {
      if (positionals.length !== 1) throw new UsageError(`${name} takes exactly one <taskId>`);
      const backend = await connect(values);
      try {
        return await act(
          new TaskClient({ broker: backend.broker, store: backend.store }),
          positionals[0]!,
        );
      } finally {
        await backend.close();
      }
    },
  });
}
