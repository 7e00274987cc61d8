import { parseArgs } from 'node:util';
import { OUTCOMES, type Outcome } from '../../core/stats.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { table } from '../output.ts';
import { UsageError } from '../usage.ts';

/** `yadtq tasks [--status S] [--limit N] [--json]`: recent outcomes, newest first. */
export async function tasksCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      status: { type: 'string' },
      limit: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError('tasks takes no arguments');
  const status = values.status;
  if (status !== undefined && !OUTCOMES.includes(status as Outcome)) {
    throw new UsageError(`--status must be one of ${OUTCOMES.join(', ')}, got ${status}`);
  }
  const limit = Number(values.limit);
  if (!(Number.isInteger(limit) && limit > 0 && limit <= 1000)) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got ${values.limit}`);
  }
  const backend = await connect(values);
  try {
    const tasks = await backend.stats.recentTasks({
      limit,
      ...(status === undefined ? {} : { status: status as Outcome }),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ tasks })}\n`);
      return 0;
    }
    if (tasks.length === 0) {
      process.stdout.write('no recent tasks\n');
      return 0;
    }
    const rows = tasks.map((t) => [
      new Date(t.finishedAt).toISOString().replace('T', ' ').slice(0, 23),
      t.id,
      t.name,
      t.status,
      t.workerId,
      t.cached ? 'cached' : `${t.durationMs}ms`,
      t.error ?? '',
    ]);
    process.stdout.write(
      `${table(['FINISHED', 'ID', 'TASK', 'STATUS', 'WORKER', 'TIME', 'ERROR'], rows)}\n`,
    );
    return 0;
  } finally {
    await backend.close();
  }
}
