import { YadtqError } from '../../core/errors.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { recordJson } from '../output.ts';

/** `yadtq status <taskId>`: the record as one JSON object. */
export const statusCommand = defineCommand({
  name: 'status',
  args: '<taskId>',
  summary: "Prints the task's record as one JSON object.",
  flags: {},
  run: async (values, positionals) => {
    if (positionals.length !== 1) throw new UsageError('status takes exactly one <taskId>');
    const backend = await connect(values);
    try {
      const record = await backend.store.get(positionals[0]!);
      if (record === null)
        throw new YadtqError(
          'TASK_NOT_FOUND',
          `task ${positionals[0]} is not known (or has expired)`,
        );
      process.stdout.write(`${recordJson(record)}\n`);
      return 0;
    } finally {
      await backend.close();
    }
  },
});
