// The tables of a throughput-like scenario (throughput, busy, drain): jobs/s per cell, what a
// run costs, and the measurement columns (jobs per CPU-s, Redis round trips and commands
// per task, handlers running), each a median [min–max] of the measured rounds.
import { median } from './lib/context.ts';
import { n, QUEUES, ratio, table } from './lib/markdown.ts';
import type { Spread, ThroughputRun, ThroughputSummary } from './scenarios/throughput.ts';

export function rateTables(
  tp: { summary: ThroughputSummary[]; runs: ThroughputRun[] },
  name: string,
  title: string,
  costTitle: string,
): string[] {
  const out: string[] = [];
  const cell = (q: string, w: number) => tp.summary.find((s) => s.queue === q && s.workers === w);
  const workers = [...new Set(tp.summary.map((s) => s.workers))];
  out.push(
    `### ${title} (${n(tp.runs[0]?.tasks)} ${tp.runs[0]?.jobMs ? `jobs of ${tp.runs[0].jobMs} ms, concurrency ${tp.runs[0].concurrency}` : 'no-op jobs'}; jobs/s, median [min–max] of ${Math.max(...tp.runs.map((r) => r.run))} rounds, interleaved, after an unmeasured warm-up round)`,
    '',
    table(
      [
        'worker processes',
        ...QUEUES,
        'yadtq / BullMQ (of medians; median of per-round ratios)',
        'yadtq / bee-queue (same)',
      ],
      workers.map((w) => {
        // Runs of one round ran back to back: their ratio cancels most of the machine's drift.
        const rounds = (other: string): string => {
          const ratios = tp.runs
            .filter((r) => r.queue === 'yadtq' && r.workers === w)
            .map((y) => {
              const o = tp.runs.find(
                (r) => r.queue === other && r.workers === w && r.run === y.run,
              );
              return o ? y.jobsPerSec / o.jobsPerSec : Number.NaN;
            })
            .filter(Number.isFinite);
          return ratios.length ? `${median(ratios).toFixed(2)}×` : '–';
        };
        return [
          String(w),
          ...QUEUES.map((q) => {
            const c = cell(q, w);
            return c ? `**${n(c.median)}** [${n(c.min)}–${n(c.max)}]` : '–';
          }),
          `${ratio(cell('yadtq', w)?.median, cell('bullmq', w)?.median)}; ${rounds('bullmq')}`,
          `${ratio(cell('yadtq', w)?.median, cell('bee-queue', w)?.median)}; ${rounds('bee-queue')}`,
        ];
      }),
    ),
    '',
    `![${name}](bench/results/${name}.svg)`,
    '',
    `#### ${costTitle}`,
    '',
    table(
      [
        'queue',
        'client',
        'workers',
        'Redis',
        'Kafka',
        'total',
        'Redis cmds/job (in scripts too)',
        'script calls/job',
        'Redis bytes in/out per job',
        'Kafka requests per 1,000 jobs',
      ],
      QUEUES.filter((q) => tp.runs.some((r) => r.queue === q)).map((q) => {
        const runs = tp.runs.filter((r) => r.queue === q && r.workers === 1);
        const per = (pick: (r: ThroughputRun) => number): number =>
          median(runs.map((r) => (pick(r) / r.tasks) * 10_000));
        const cpu = (k: 'client' | 'workers' | 'redis' | 'kafka') =>
          per((r) => r.cost.cpuSeconds[k]);
        const total = cpu('client') + cpu('workers') + cpu('redis') + cpu('kafka');
        const last = runs.at(-1)!;
        const calls = Object.values(last.cost.redisCallsPerTask).reduce((a, b) => a + b, 0);
        const scripts =
          (last.cost.redisCallsPerTask.evalsha ?? 0) + (last.cost.redisCallsPerTask.eval ?? 0);
        const kafka = Object.entries(last.kafkaRequestsPer1000)
          .filter(([api]) => ['Produce', 'Fetch', 'OffsetCommit'].includes(api))
          .map(([api, v]) => `${api} ${v}`)
          .join(', ');
        return [
          q,
          n(cpu('client'), 2),
          n(cpu('workers'), 2),
          n(cpu('redis'), 2),
          n(cpu('kafka'), 2),
          n(total, 2),
          n(calls, 1),
          n(scripts, 1),
          `${n(last.cost.redisBytesPerTask.in)} / ${n(last.cost.redisBytesPerTask.out)}`,
          kafka || '–',
        ];
      }),
    ),
    '',
  );
  out.push(...measurementTable(tp));
  return out;
}

const spread = (s: Spread | undefined, digits = 0): string =>
  s === undefined ? '–' : `${n(s.median, digits)} [${n(s.min, digits)}–${n(s.max, digits)}]`;

/** Per cell: the figures of issue 14's "measure first", medians [min–max] of the rounds. */
export function measurementTable(tp: {
  summary: ThroughputSummary[];
  runs: ThroughputRun[];
}): string[] {
  if (tp.summary.some((s) => s.jobsPerCpuSecond === undefined)) return [];
  return [
    '#### Measured per cell (medians [min–max] of the rounds)',
    '',
    table(
      [
        'queue',
        'worker processes',
        'jobs per CPU-s (all processes)',
        'Redis round trips per job (client + workers)',
        'top-level Redis commands per job (client + workers)',
        'Redis commands per job run by the server (in scripts too)',
        'handlers running at once (median of 100 ms samples)',
        'jobs held: started, outcome not stored (median of samples)',
      ],
      tp.summary.map((s) => [
        s.queue,
        String(s.workers),
        spread(s.jobsPerCpuSecond),
        spread(s.redisRoundTripsPerTask, 3),
        spread(s.redisRequestsPerTask, 2),
        spread(s.redisCommandsPerTask, 1),
        spread(s.handlersRunning, 1),
        n(
          median(
            tp.runs
              .filter((r) => r.queue === s.queue && r.workers === s.workers)
              .map((r) => median(r.busy.medianInFlight)),
          ),
          1,
        ),
      ]),
    ),
    '',
  ];
}
