import { TaskClient } from '../../core/client.ts';
import { type Command, defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';

/** `yadtq pause [<task>]`: pauses a task name across the fleet; without one, lists them. */
export const pauseCommand = pauseAction(
  'pause',
  '[<task>]',
  'Pauses a task name: running tasks finish, the others wait (parked) until resume; without a name, lists the paused ones.',
  async (client, name) => {
    if (name === undefined) {
      process.stdout.write(`${JSON.stringify({ paused: await client.paused() })}\n`);
      return 0;
    }
    const paused = await client.pause(name);
    process.stdout.write(`${JSON.stringify({ task: name, paused, already: !paused })}\n`);
    return 0;
  },
);

/** `yadtq resume <task>`: its parked tasks are offered to the workers again. */
export const resumeCommand = pauseAction(
  'resume',
  '<task>',
  'Resumes a paused task name: its waiting tasks start again.',
  async (client, name) => {
    if (name === undefined) throw new UsageError('resume takes a <task>');
    const offered = await client.resume(name);
    process.stdout.write(`${JSON.stringify({ task: name, resumed: true, offered })}\n`);
    return 0;
  },
);

function pauseAction(
  name: string,
  args: string,
  summary: string,
  act: (client: TaskClient, task: string | undefined) => Promise<number>,
): Command {
  return defineCommand({
    name,
    args,
    summary,
    flags: {},
    run: async (values, positionals) => {
      if (positionals.length > 1) throw new UsageError(`${name} takes at most one <task>`);
      const backend = await connect(values);
      try {
        const { broker, store, pauses } = backend;
        return await act(new TaskClient({ broker, store, pauses }), positionals[0]);
      } finally {
        await backend.close();
      }
    },
  });
}
