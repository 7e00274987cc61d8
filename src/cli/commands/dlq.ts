import { parseArgs } from 'node:util';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { table } from '../output.ts';
import { UsageError } from '../usage.ts';

/** `yadtq dlq [--limit N] [--json]`: the newest dead-lettered messages and why. */
export async function dlqCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      limit: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError('dlq takes no arguments');
  const limit = Number(values.limit);
  if (!(Number.isInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a whole number > 0, got ${values.limit}`);
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
}
