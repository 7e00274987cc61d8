import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { DEFAULTS } from '../../core/defaults.ts';
import { positive } from '../../core/options.ts';
import { listDeadLetters } from '../../core/redrive.ts';
import type { ReplayMark } from '../../core/replay-ledger.ts';
import { type Command, defineCommand, HelpRequested, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';
import { commandUsage } from '../usage.ts';
import { dlqReplayCommand } from './dlq-replay.ts';

/** `yadtq dlq [--limit N] [--json]`: the newest dead-lettered messages, why, and their replays. */
const dlqListCommand = defineCommand({
  name: 'dlq',
  args: '[replay …]',
  summary:
    'Prints the newest dead-lettered messages, why each was dead-lettered and whether it was ' +
    'replayed. `yadtq dlq replay` runs chosen ones again: see `yadtq dlq replay --help`.',
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
    if (positionals.length > 0) throw new UsageError('dlq takes no arguments but replay');
    const { limit } = values;
    const backend = await connect(values);
    try {
      const messages = await listDeadLetters(backend, limit);
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
          m.entry,
          m.timestamp ? new Date(m.timestamp).toISOString() : '-',
          h[DLQ_HEADERS.taskId] ?? m.key,
          h[DLQ_HEADERS.reason] ?? '-',
          h[DLQ_HEADERS.code] ?? '-',
          replayedText(m.replayed),
          (h[DLQ_HEADERS.error] ?? '').slice(0, 80),
        ];
      });
      const header = ['ENTRY', 'TIME', 'TASK / KEY', 'REASON', 'CODE', 'REPLAYED', 'ERROR'];
      process.stdout.write(`${table(header, rows)}\n`);
      return 0;
    } finally {
      await backend.close();
    }
  },
});

function replayedText(mark: ReplayMark | null): string {
  if (mark === null) return '-';
  const as = mark.attempt === null ? '' : ` (attempt ${mark.attempt})`;
  return `${new Date(mark.at).toISOString()}${as}`;
}

/**
 * `yadtq dlq …` lists; `yadtq dlq replay …` replays (its own flags and usage: a bad
 * replay call prints the replay's usage and exits 2, like any command).
 */
export const dlqCommand: Command = {
  ...dlqListCommand,
  run: async (argv) => {
    if (argv[0] !== 'replay') return dlqListCommand.run(argv);
    try {
      return await dlqReplayCommand.run(argv.slice(1));
    } catch (error) {
      if (error instanceof HelpRequested) {
        process.stdout.write(commandUsage(dlqReplayCommand));
        return 0;
      }
      if (error instanceof UsageError) {
        process.stderr.write(`yadtq: ${error.message}\n\n${commandUsage(dlqReplayCommand)}`);
        return 2;
      }
      throw error;
    }
  },
};
