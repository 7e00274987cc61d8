// Markdown tables of the latest results: `node bench/tables.ts [--write] [dir]`.
// --write replaces the part of BENCHMARKS.md between <!-- results:start --> and <!-- results:end -->.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './lib/context.ts';
import { n, QUEUES, ratio, table } from './lib/markdown.ts';
import { ROOT } from './lib/services.ts';
import type { LanesResult } from './scenarios/lanes.ts';
import type { LatencyResult } from './scenarios/latency.ts';
import type { ProfileReport } from './scenarios/profile.ts';
import type { RecoveryResult } from './scenarios/recovery.ts';
import type { ScaleResult } from './scenarios/scale.ts';
import type { ThroughputRun, ThroughputSummary } from './scenarios/throughput.ts';
import { rateTables } from './tables-rates.ts';

const args = process.argv.slice(2);
const write = args.includes('--write');
const dir = args.find((a) => !a.startsWith('--')) ?? join(import.meta.dirname, 'results');

function load<T>(name: string): (T & { meta: Meta }) | undefined {
  const path = join(dir, `${name}.json`);
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as T & { meta: Meta })
    : undefined;
}

interface Meta {
  startedAt: string;
  command: string;
  machine: {
    nproc: number;
    cpu: string;
    memoryGb: number;
    loadBefore: number[];
    loadAfter: number[];
  };
  versions: Record<string, string>;
}

const out: string[] = [];
const metas: Meta[] = [];

const rateScenarios = [
  [
    'throughput',
    'Throughput: added in bulk while the workers run, first add → last done',
    'What a throughput run costs (1 worker process, medians): CPU seconds per 10,000 jobs by process, Redis traffic per job',
  ],
  [
    'busy',
    'Busy: 10 ms jobs into 200 slots of 1 worker process, added in bulk while it runs',
    'What a busy run costs (medians): CPU seconds per 10,000 jobs by process, Redis traffic per job',
  ],
  [
    'drain',
    'Drain: the worker side alone (all jobs queued first, then 1 worker process; first → last done)',
    'What draining costs (medians): CPU seconds per 10,000 jobs (workers: from ready to stop), Redis commands and traffic per job from the workers alone',
  ],
] as const;
for (const [name, title, costTitle] of rateScenarios) {
  const tp = load<{ summary: ThroughputSummary[]; runs: ThroughputRun[] }>(name);
  if (!tp) continue;
  metas.push(tp.meta);
  out.push(...rateTables(tp, name, title, costTitle));
}

const fp = load<{ runs: ThroughputRun[] }>('footprint');
if (fp) {
  out.push(
    '### Footprint (1 worker process under the throughput load, medians)',
    '',
    table(
      [
        'queue',
        'worker RSS max (MB)',
        'Redis used_memory per 10,000 finished jobs (MB)',
        'what stays in Redis by default',
      ],
      QUEUES.filter((q) => fp.runs.some((r) => r.queue === q)).map((q) => {
        const runs = fp.runs.filter((r) => r.queue === q);
        return [
          q,
          n(median(runs.map((r) => r.workerRssMaxMb[0] ?? 0))),
          n(median(runs.map((r) => ((r.cost.redisMemoryDelta / r.tasks) * 10_000) / 2 ** 20)), 2),
          q === 'yadtq'
            ? 'every record for 24 h (retention), then expired'
            : q === 'bullmq'
              ? 'every completed job, forever (removeOnComplete off)'
              : 'every succeeded job, forever (removeOnSuccess off)',
        ];
      }),
    ),
    '',
    '![footprint](bench/results/footprint.svg)',
    '',
  );
}

const lat = load<{ results: LatencyResult[] }>('latency');
if (lat) {
  metas.push(lat.meta);
  const get = (q: string) => lat.results.find((r) => r.queue === q);
  out.push(
    `### Latency (${n(lat.results[0]?.tasks)} jobs one at a time, submit → result in the client, ms)`,
    '',
    table(
      ['', ...QUEUES, 'yadtq / BullMQ', 'yadtq / bee-queue'],
      (['p50', 'p95', 'p99', 'mean', 'max', 'submitP50', 'submitP99'] as const).map((p) => [
        p.replace('submitP', 'the add alone, p'),
        ...QUEUES.map((q) => n(get(q)?.[p], 2)),
        ratio(get('yadtq')?.[p], get('bullmq')?.[p]),
        ratio(get('yadtq')?.[p], get('bee-queue')?.[p]),
      ]),
    ),
    '',
    '![latency](bench/results/latency.svg)',
    '',
  );
}

const rec = load<{ results: RecoveryResult[] }>('recovery');
if (rec) {
  metas.push(rec.meta);
  const yadtq = rec.results.find((r) => r.queue === 'yadtq')?.recoveryMs ?? undefined;
  out.push(
    `### Recovery (SIGKILL of the worker holding ${rec.results[0]?.tasks} in-flight jobs of ${rec.results[0]?.jobMs} ms; the other worker finishes them)`,
    '',
    table(
      [
        'queue',
        'kill → all done (s)',
        'orphaned for (s, minus the job time)',
        'recovered',
        'vs yadtq',
      ],
      rec.results.map((r) => [
        r.queue,
        n(r.recoveryMs === null ? null : r.recoveryMs / 1000, 1),
        n(r.detectionMs === null ? null : r.detectionMs / 1000, 1),
        r.error ? `${r.recovered} (${r.error})` : String(r.recovered),
        r.queue === 'yadtq' ? '1×' : ratio(r.recoveryMs ?? undefined, yadtq),
      ]),
    ),
    '',
    '![recovery](bench/results/recovery.svg)',
    '',
  );
}

const sc = load<{ results: ScaleResult[] }>('scale');
if (sc) {
  metas.push(sc.meta);
  out.push(
    '### Scale (yadtq alone, 1 worker process, concurrency 50)',
    '',
    table(
      [
        'tasks',
        'jobs/s',
        'wall (s)',
        'Redis used_memory delta (MB)',
        'Redis bytes per task',
        'CPU ms per task (all processes)',
        'worker RSS max (MB)',
      ],
      sc.results.map((r) => [
        n(r.tasks),
        n(r.jobsPerSec),
        n(r.ms / 1000, 1),
        n(r.redisMemoryDelta / 2 ** 20, 1),
        n(r.redisBytesPerTask),
        n(r.cpuMsPerTask, 3),
        n(r.workerRssMaxMb),
      ]),
    ),
    '',
    '![scale](bench/results/scale.svg)',
    '',
  );
}

const ln = load<LanesResult>('lanes');
if (ln) {
  metas.push(ln.meta);
  const run = ln.runs[0];
  out.push(
    `### Ordering lanes (yadtq alone: ${run?.keys} keys × ${n(run?.perKey)} no-op jobs, ${run?.workers} worker processes, concurrency ${run?.concurrency}; median [min–max] of ${ln.summary[0]?.rounds} rounds, plain and lanes back to back)`,
    '',
    table(
      ['submitted', 'jobs/s', 'ms per task of one key', 'jobs per CPU-s', 'vs plain'],
      ln.summary.map((s) => [
        s.mode === 'lanes' ? 'with orderingKey (one at a time per key)' : 'plain (no orderingKey)',
        `**${n(s.median)}** [${n(s.min)}–${n(s.max)}]`,
        `${n(s.msPerLaneStep.median, 2)} [${n(s.msPerLaneStep.min, 2)}–${n(s.msPerLaneStep.max, 2)}]`,
        n(s.jobsPerCpuSecond.median),
        s.mode === 'lanes'
          ? `${n(ln.lanesOverPlain.ofMedians, 2)}× of medians; ${n(ln.lanesOverPlain.medianOfRounds, 2)}× median of rounds`
          : '1×',
      ]),
    ),
    '',
    '![lanes](bench/results/lanes.svg)',
    '',
  );
}

const prof = load<ProfileReport>('profile');
if (prof) {
  metas.push(prof.meta);
  for (const result of prof.results) {
    const busyPerK = (result.worker.busyMs / result.run.tasks) * 1000;
    out.push(
      `### Worker CPU profile: ${result.queue} (${n(result.run.tasks)} jobs, ${n(result.run.jobsPerSec)} jobs/s; worker busy ${n(result.worker.busyMs)} ms of ${n(result.worker.totalMs)} ms sampled = ${n(busyPerK)} ms per 1,000 jobs, start-up included)`,
      '',
    );
    if (result.queue === 'yadtq') {
      out.push(
        table(
          ['self ms', '% of busy', 'function', 'where'],
          result.worker.top.map((f) => [
            n(f.selfMs, 1),
            n(f.pct, 1),
            `\`${f.name}\``,
            f.where ? `\`${f.where}\`` : '',
          ]),
        ),
        '',
      );
    }
    out.push(
      `By area: ${result.worker.byArea
        .slice(0, 8)
        .map((a) => `${a.area} ${n(a.pct, 1)}%`)
        .join(', ')}.`,
      '',
    );
  }
  if (prof.submit) {
    const s = prof.submit;
    out.push(
      `### yadtq submitMany breakdown (no worker running; median of ${s.batches} batches of ${n(s.batch)})`,
      '',
      table(
        [
          'whole batch (ms)',
          'Redis creates, pipelined (ms)',
          'Kafka produce (ms)',
          'rest: ids, JSON, dedup keys (ms)',
          'submit rate (tasks/s)',
        ],
        [
          [
            n(s.batchMs, 1),
            n(s.createMs, 1),
            n(s.produceMs, 1),
            n(s.batchMs - s.createMs - s.produceMs, 1),
            n(s.submitPerSec),
          ],
        ],
      ),
      '',
    );
  }
}

const meta = metas[0];
if (meta) {
  const v = meta.versions;
  out.unshift(
    `Run of ${meta.startedAt.slice(0, 16).replace('T', ' ')} UTC. Machine: ${meta.machine.nproc} cores (${meta.machine.cpu}), ${meta.machine.memoryGb} GB; load average (1/5/15 min) ${meta.machine.loadBefore.join(' / ')} before, ${metas.at(-1)!.machine.loadAfter.join(' / ')} after (other engineers' tests shared the machine). Versions: Node ${v.node}, Kafka ${v.kafka}, Redis ${v.redis}, BullMQ ${v.bullmq}, bee-queue ${v['bee-queue']}, @platformatic/kafka ${v['@platformatic/kafka']}, ioredis ${v.ioredis}, yadtq ${v.yadtq}.`,
    '',
    `Commands: ${[...new Set(metas.map((m) => `\`${m.command}\``))].join(', ')}.`,
    '',
  );
}

const text = out.join('\n');
if (write) {
  const path = join(ROOT, 'BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  const start = doc.indexOf('<!-- results:start -->');
  const end = doc.indexOf('<!-- results:end -->');
  if (start < 0 || end < 0)
    throw new Error('BENCHMARKS.md has no <!-- results:start/end --> markers');
  writeFileSync(
    path,
    `${doc.slice(0, start)}<!-- results:start -->\n\n${text}\n<!-- results:end -->${doc.slice(end + 20)}`,
  );
  // The project's formatter aligns Markdown tables: let it.
  spawnSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', path], {
    stdio: 'ignore',
  });
} else {
  process.stdout.write(`${text}\n`);
}
