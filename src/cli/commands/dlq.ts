import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { DEFAULTS } from '../../core/defaults.ts';
import { positive } from '../../core/options.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/** `yadtq dlq [--limit N] [--json]`: the newest dead-lettered messages and why. */
export const dlqCommand = defineCommand({
  name: 'dlq',
  summary: 'Prints the newest dead-lettered messages and why each was dead-lettered.',
  flags: {
    limit: {
      value: 'N',
      description: 'messages to show',
      default: DEFAULTS.listLimit,
      number: positive,
    },
    json: { description: 'print one JSON document' },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('dlq takes no arguments');
    const { limit } = values;
    const backend = await connect(values);
    try {
      const messages = await backend.broker.deadLetters(limit);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ deadLetters: messages })}\n`);
        return 0;
      }
      if (messages.length === 0) {
        process.stdout.write('the dead-letter topic is empty\n');
        return 0;
      }
      const rows = messages.map((m) => {
        const h = m.headers ?? {};
        return [
          m.timestamp ? new Date(m.timestamp).toISOString() : '-',
          h[DLQ_HEADERS.taskId] ?? m.key,
          h[DLQ_HEADERS.reason] ?? '-',
          h[DLQ_HEADERS.code] ?? '-',
          (h[DLQ_HEADERS.error] ?? '').slice(0, 80),
        ];
      });
      process.stdout.write(`${table(['TIME', 'TASK / KEY', 'REASON', 'CODE', 'ERROR'], rows)}\n`);
      return 0;
    } finally {
      await backend.close();
    }
  },
});
