import { DEFAULTS } from '../../core/defaults.ts';
import { oneOf, wholeNumber } from '../../core/options.ts';
import { OUTCOMES, type Outcome, STATS_LIMITS } from '../../core/stats.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/** `yadtq tasks [--status S] [--limit N] [--json]`: recent outcomes, newest first. */
export const tasksCommand = defineCommand({
  name: 'tasks',
  summary: 'Prints the most recent task outcomes, newest first.',
  flags: {
    status: { value: OUTCOMES.join('|'), description: 'only this outcome', text: oneOf(OUTCOMES) },
    limit: {
      value: 'N',
      description: 'outcomes to show',
      default: DEFAULTS.listLimit,
      number: wholeNumber(1, STATS_LIMITS.recentTasks),
    },
    json: { description: 'print one JSON document' },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('tasks takes no arguments');
    const status = values.status as Outcome | undefined;
    const { limit } = values;
    const backend = await connect(values);
    try {
      const tasks = await backend.stats.recentTasks({
        limit,
        ...(status === undefined ? {} : { status }),
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
  },
});
