import { OUTCOMES, type Overview, readOverview } from '../../core/stats.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/**
 * `yadtq stats [--json]`: counts by status, a table per task name, the spread over
 * workers and the consumer lag per partition; `--json` prints the overview document.
 */
export const statsCommand = defineCommand({
  name: 'stats',
  summary:
    'Prints counts by status, a table per task name, the spread over workers and the consumer lag per partition.',
  flags: { json: { description: 'print the overview as one JSON document' } },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('stats takes no arguments');
    const backend = await connect(values);
    try {
      const overview = await readOverview(backend);
      process.stdout.write(
        values.json ? `${JSON.stringify(overview)}\n` : formatOverview(overview),
      );
      return 0;
    } finally {
      await backend.close();
    }
  },
});

/** The overview as tables for a terminal. */
export function formatOverview(overview: Overview): string {
  const { status, stats, workers, lag } = overview;
  const parts: string[] = [];
  parts.push(
    `Tasks      ${Object.entries(status)
      .map(([k, v]) => `${k} ${v}`)
      .join('   ')}`,
  );
  parts.push(
    stats.names.length === 0
      ? 'No task outcomes recorded yet.'
      : table(
          ['TASK', ...OUTCOMES.map((o) => o.toUpperCase()), 'CACHED', 'P50', 'P95', 'MAX', 'RUNS'],
          stats.names.map((n) => [
            n.name,
            ...OUTCOMES.map((o) => String(n.counts[o])),
            String(n.counts.cached),
            ms(n.durations.p50),
            ms(n.durations.p95),
            ms(n.durations.max),
            String(n.durations.samples),
          ]),
        ),
  );
  const busy = new Map(stats.workers.map((w) => [w.workerId, w]));
  const ids = [...new Set([...workers.map((w) => w.id), ...busy.keys()])];
  const total = stats.workers.reduce((sum, w) => sum + w.processed + w.failed, 0);
  parts.push(
    ids.length === 0
      ? 'No workers have registered.'
      : table(
          [
            'WORKER',
            'STATE',
            'HEARTBEAT',
            'DONE',
            'FAILED',
            'SHARE',
            'BUSY',
            'IN FLIGHT',
            'PARTITIONS',
          ],
          ids.map((id) => {
            const info = workers.find((w) => w.id === id);
            const s = busy.get(id);
            const done = (s?.processed ?? 0) + (s?.failed ?? 0);
            const share = total === 0 ? 0 : done / total;
            return [
              id,
              info === undefined ? '-' : info.alive ? 'alive' : 'dead',
              info === undefined ? '-' : `${(info.heartbeatAgeMs / 1000).toFixed(1)}s ago`,
              String(s?.processed ?? 0),
              String(s?.failed ?? 0),
              `${(share * 100).toFixed(0).padStart(3)}% ${'█'.repeat(Math.round(share * 20))}`,
              ms(s?.busyMs ?? 0),
              String(info?.alive ? info.inFlight : 0),
              info?.partitions.join(',') || '-',
            ];
          }),
        ),
  );
  if (lag === null) {
    parts.push(`Consumer lag: unavailable (${overview.lagError ?? 'unknown error'})`);
  } else {
    parts.push(
      `${table(
        ['PARTITION', 'END', 'COMMITTED', 'LAG', 'OLDEST', 'OWNER'],
        lag.partitions.map((p) => [
          String(p.partition),
          String(p.endOffset),
          p.committedOffset === null ? '-' : String(p.committedOffset),
          String(p.lag),
          p.oldestAgeMs == null ? '-' : `${age(p.oldestAgeMs)}${p.nearRetention ? ' !' : ''}`,
          p.owner ?? '-',
        ]),
      )}\nTotal lag ${lag.total} on topic ${lag.topic}, group ${lag.group}${
        lag.retentionMs == null ? '' : `, retention ${age(lag.retentionMs)}`
      }`,
    );
    const near = lag.partitions.filter((p) => p.nearRetention === true);
    if (near.length > 0) {
      parts.push(
        `WARNING: the backlog of partition(s) ${near.map((p) => p.partition).join(', ')} nears the topic retention: Kafka may delete those tasks unrun (raise retention.ms, or add workers)`,
      );
    }
  }
  const { parked } = overview;
  if (parked !== null && parked.total > 0) {
    const more = parked.groupCount - parked.groups.length;
    parts.push(
      `${table(
        ['WAITING ON', 'PARKED'],
        parked.groups.map((g) => [g.group, String(g.tasks)]),
      )}\nParked ${parked.total} task(s) in ${parked.groupCount} group(s) (lanes and limits)${more > 0 ? ` (${more} more not shown)` : ''}`,
    );
  }
  if (stats.failures.length > 0) {
    parts.push(
      `Recent failures:\n${stats.failures
        .slice(0, 5)
        .map(
          (f) =>
            `  ${new Date(f.finishedAt).toISOString()}  ${f.id}  ${f.name} on ${f.workerId}: ${f.error ?? ''}`,
        )
        .join('\n')}`,
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/** A duration as people say it: 45s, 12m, 3.5h, 6.2d. */
function age(value: number): string {
  const s = value / 1000;
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)}s` : `${Math.round(value)}ms`;
}
