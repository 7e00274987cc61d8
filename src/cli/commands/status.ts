import { parseArgs } from 'node:util';
import { YadtqError } from '../../core/errors.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { recordJson } from '../output.ts';
import { UsageError } from '../usage.ts';

/** `yadtq status <taskId>`: the record as one JSON object. */
export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: CONNECTION_FLAGS,
  });
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
}
