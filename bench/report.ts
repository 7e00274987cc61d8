// The SVG chart of each scenario; `node bench/report.ts [dir]` redraws them from the JSON results.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart, lineChart } from './chart.ts';
import { median } from './lib/context.ts';
import type { LanesResult } from './scenarios/lanes.ts';
import type { LatencyResult } from './scenarios/latency.ts';
import type { RecoveryResult } from './scenarios/recovery.ts';
import type { ScaleResult } from './scenarios/scale.ts';
import type { ThroughputRun, ThroughputSummary } from './scenarios/throughput.ts';

const sizeLabel = (n: number): string =>
  n >= 1e6 ? `${n / 1e6}M` : n >= 1000 ? `${n / 1000}k` : String(n);

/** The chart of each scenario, from the data saved in its JSON. */
// biome-ignore lint/suspicious/noExplicitAny: each chart reads its own scenario's data
export const charts: Record<string, (data: any) => string> = {
  throughput: (data: { summary: ThroughputSummary[]; runs: ThroughputRun[] }) => {
    const workers = [...new Set(data.summary.map((s) => s.workers))];
    const tasks = data.runs[0]?.tasks ?? 0;
    return barChart(
      'Throughput end to end',
      [
        {
          title: `${sizeLabel(tasks)} no-op jobs, first add → last done`,
          unit: 'jobs/s (median; whiskers min–max)',
          groups: workers.map((w) => ({
            label: `${w} worker process${w > 1 ? 'es' : ''}`,
            bars: data.summary
              .filter((s) => s.workers === w)
              .map((s) => ({ series: s.queue, value: s.median, low: s.min, high: s.max })),
          })),
        },
      ],
      'concurrency 50 per worker',
    );
  },
  busy: (data: { summary: ThroughputSummary[]; runs: ThroughputRun[] }) =>
    barChart(
      'Busy: jobs of a few ms into many slots',
      [
        {
          title: `${sizeLabel(data.runs[0]?.tasks ?? 0)} jobs of ${data.runs[0]?.jobMs ?? 0} ms, 1 worker process`,
          unit: 'jobs/s, first add → last done (median; min–max)',
          groups: [
            {
              label: `concurrency ${data.runs[0]?.concurrency ?? 0}`,
              bars: data.summary.map((s) => ({
                series: s.queue,
                value: s.median,
                low: s.min,
                high: s.max,
              })),
            },
          ],
        },
      ],
      'added in bulk while the worker runs',
    ),
  'busy-timeline': (data: { runs: ThroughputRun[] }) => {
    // Per queue its median round (by jobs/s), the first worker process's samples.
    const lines = [...new Set(data.runs.map((r) => r.queue))].map((queue) => {
      const runs = data.runs
        .filter((r) => r.queue === queue)
        .sort((a, b) => a.jobsPerSec - b.jobsPerSec);
      const run = runs[Math.floor((runs.length - 1) / 2)];
      const samples = run?.busy?.timeline[0] ?? [];
      return {
        series: queue,
        points: samples.map(([ms, running]): [number, number] => [ms / 1000, running]),
      };
    });
    const run = data.runs[0];
    return lineChart(
      `Handlers running at once, 1 worker process, concurrency ${run?.concurrency ?? 0}, ${run?.jobMs ?? 0} ms jobs (median round)`,
      's since the first add',
      'handlers running (sampled every 100 ms)',
      lines,
    );
  },
  drain: (data: { summary: ThroughputSummary[]; runs: ThroughputRun[] }) =>
    barChart(
      'Drain: the worker side alone',
      [
        {
          title: `${sizeLabel(data.runs[0]?.tasks ?? 0)} no-op jobs queued first, 1 worker process`,
          unit: 'jobs/s, first → last done (median; min–max)',
          groups: [
            {
              label: '1 worker process, concurrency 50',
              bars: data.summary.map((s) => ({
                series: s.queue,
                value: s.median,
                low: s.min,
                high: s.max,
              })),
            },
          ],
        },
      ],
      'no client running',
    ),
  footprint: (data: { runs: ThroughputRun[] }) => {
    const queues = [...new Set(data.runs.map((r) => r.queue))];
    const per = (pick: (r: ThroughputRun) => number) =>
      queues.map((q) => ({
        series: q,
        value: median(data.runs.filter((r) => r.queue === q).map(pick)),
      }));
    return barChart('Footprint (1 worker process, throughput runs, medians)', [
      {
        title: 'Worker RSS under load',
        unit: 'MB',
        groups: [
          { label: 'max RSS of the worker process', bars: per((r) => r.workerRssMaxMb[0] ?? 0) },
        ],
      },
      {
        title: 'Redis memory per 10,000 finished jobs',
        unit: 'MB (used_memory delta)',
        groups: [
          {
            label: 'with each queue’s default retention',
            bars: per((r) =>
              Number((((r.cost.redisMemoryDelta / r.tasks) * 10_000) / 2 ** 20).toFixed(2)),
            ),
          },
        ],
      },
    ]);
  },
  latency: (data: { results: LatencyResult[] }) =>
    barChart('Latency: one job at a time, submit → result in the client', [
      {
        title: `${data.results[0]?.tasks ?? 0} sequential no-op jobs`,
        unit: 'ms',
        groups: (['p50', 'p95', 'p99'] as const).map((p) => ({
          label: p,
          bars: data.results.map((r) => ({ series: r.queue, value: r[p] })),
        })),
      },
    ]),
  recovery: (data: { results: RecoveryResult[] }) =>
    barChart('Recovery after SIGKILL of a worker', [
      {
        title: `${data.results[0]?.tasks ?? 0} in-flight jobs of ${data.results[0]?.jobMs ?? 0} ms each`,
        unit: 's, kill → all done by the other worker',
        groups: [
          {
            label: 'defaults of each queue',
            bars: data.results
              .filter((r) => r.recoveryMs !== null)
              .map((r) => ({ series: r.queue, value: (r.recoveryMs ?? 0) / 1000 })),
          },
        ],
      },
    ]),
  lanes: (data: LanesResult) => {
    const run = data.runs[0];
    return barChart(
      'Ordering lanes: the tasks of each key one at a time',
      [
        {
          title: `${run?.keys ?? 0} keys × ${run?.perKey ?? 0} no-op jobs, ${run?.workers ?? 0} worker processes`,
          unit: 'jobs/s, first add → last done (median; min–max)',
          groups: [
            {
              label: `concurrency ${run?.concurrency ?? 0}`,
              bars: data.summary.map((s) => ({
                series: s.mode === 'lanes' ? 'yadtq, orderingKey' : 'yadtq, plain',
                value: s.median,
                low: s.min,
                high: s.max,
              })),
            },
          ],
        },
      ],
      `lanes / plain ${data.lanesOverPlain.medianOfRounds}× (median of rounds)`,
    );
  },
  scale: (data: { results: ScaleResult[] }) =>
    barChart('yadtq at scale (1 worker process, concurrency 50)', [
      {
        title: 'Throughput',
        unit: 'jobs/s',
        groups: data.results.map((r) => ({
          label: sizeLabel(r.tasks),
          bars: [{ series: 'yadtq', value: r.jobsPerSec }],
        })),
      },
      {
        title: 'Redis memory per finished task',
        unit: 'bytes (used_memory delta / tasks)',
        groups: data.results.map((r) => ({
          label: sizeLabel(r.tasks),
          bars: [{ series: 'yadtq', value: r.redisBytesPerTask }],
        })),
      },
      {
        title: 'CPU per task, all processes',
        unit: 'ms',
        groups: data.results.map((r) => ({
          label: sizeLabel(r.tasks),
          bars: [{ series: 'yadtq', value: r.cpuMsPerTask }],
        })),
      },
    ]),
};

if (import.meta.main) {
  const dir = process.argv[2] ?? join(import.meta.dirname, 'results');
  for (const [name, draw] of Object.entries(charts)) {
    const path = join(dir, `${name.replace(/-timeline$/, '')}.json`);
    if (existsSync(path))
      writeFileSync(join(dir, `${name}.svg`), draw(JSON.parse(readFileSync(path, 'utf8'))));
  }
}
