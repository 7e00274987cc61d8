import type { DeadLetterReason } from '../../core/dead-letter.ts';
import { positive, rule } from '../../core/options.ts';
import { type ReplayReport, replayDeadLetters } from '../../core/redrive.ts';
import {
  DEAD_LETTER_REASON,
  type DeadLetterFilter,
  ENTRY_ID,
  parseSince,
  SINCE_TEXT,
} from '../../core/redrive-filter.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/**
 * `yadtq dlq replay [--reason R] [--task NAME] [--since T] [--entry P:O]… [--limit N]
 * [--dry-run] [--json]`: the chosen dead-lettered tasks run again, each as a new attempt.
 * Exit 0 when every chosen entry was replayed, 1 when any was refused.
 */
export const dlqReplayCommand = defineCommand({
  name: 'dlq replay',
  summary:
    'Runs the dead-lettered tasks the filters choose again (oldest first), each as a new attempt: ' +
    'from its record, or from the dead-letter body when the record is gone (never a cut or ' +
    'invalid body). An entry is replayed once; a second replay of it is refused.',
  flags: {
    reason: {
      value: '<reason>',
      description: 'only entries dead-lettered for this reason: exhausted, worker-lost, …',
      text: rule<string>(DEAD_LETTER_REASON.says, DEAD_LETTER_REASON.accepts),
    },
    task: { value: '<name>', description: 'only entries of this task name' },
    since: {
      value: '<time>',
      description: 'only entries dead-lettered since: an ISO time, or 30m, 2h, 1d ago',
      text: SINCE_TEXT,
    },
    entry: {
      value: '<partition:offset>',
      description: 'only this entry, as dlq lists it (repeatable)',
      multiple: true,
    },
    limit: { value: 'N', description: 'replay at most N entries', number: positive },
    'dry-run': { description: 'list what would be replayed; change nothing' },
    json: { description: 'print one JSON document' },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('dlq replay takes no arguments');
    const filter: DeadLetterFilter = {};
    if (values.reason !== undefined) filter.reason = values.reason as DeadLetterReason;
    if (values.task !== undefined) filter.task = values.task;
    if (values.since !== undefined) filter.since = parseSince(values.since, Date.now())!;
    if (values.entry !== undefined) {
      for (const entry of values.entry)
        if (!ENTRY_ID.accepts(entry))
          throw new UsageError(`--entry must be ${ENTRY_ID.says}, got ${JSON.stringify(entry)}`);
      filter.entries = values.entry;
    }
    if (values.limit !== undefined) filter.limit = values.limit;
    const backend = await connect(values);
    try {
      const report = await replayDeadLetters(backend, filter, { dryRun: values['dry-run'] });
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : text(report));
      return report.refused === 0 ? 0 : 1;
    } finally {
      await backend.close();
    }
  },
});

function text(report: ReplayReport): string {
  if (report.matched === 0) return 'no dead-lettered entry matches\n';
  const rows = report.results.map((r) => [
    r.entry,
    r.taskId ?? '-',
    r.name ?? '-',
    r.reason ?? '-',
    r.outcome === 'refused' ? `refused: ${r.refused}` : r.outcome,
    r.outcome === 'refused'
      ? (r.detail ?? '')
      : `from its ${r.from}${r.attempt === undefined ? '' : `, attempt ${r.attempt}`}`,
  ]);
  const done = report.dryRun ? 'would replay' : 'replayed';
  return `${table(['ENTRY', 'TASK', 'NAME', 'REASON', 'OUTCOME', 'DETAIL'], rows)}
${done} ${report.replayed}, refused ${report.refused} (of ${report.matched} matching)
`;
}
