// What a chaos run takes (ChaosOptions, with its defaults) and what it reports (ChaosReport),
// and the summary `npm run chaos` prints.
import type { LaneFigures } from './lanes.ts';

/** What to run; every field has a default (the issue's full-size run). */
export interface ChaosOptions {
  /** Tasks submitted. Default 5000. */
  tasks?: number;
  /** Worker processes kept running. Default 3. */
  workers?: number;
  /** A random worker is SIGKILLed this often (ms). Default 2000. */
  killEveryMs?: number;
  /**
   * Longest chaos phase (ms): workers are killed until every task has ended or this much
   * time has passed. Default 120 000.
   */
  durationMs?: number;
  /** Spread the submits evenly over this many ms; 0 submits everything at once. Default 40 000. */
  submitOverMs?: number;
  /** Restart the Kafka broker once (own broker only). Default true. */
  brokerRestart?: boolean;
  /** When the broker restart begins, in ms after the chaos phase began. Default 15 000. */
  brokerRestartAtMs?: number;
  /** Tasks each worker runs at once. Default: the worker's default. */
  concurrency?: number;
  /** Task run time range (ms). Default 1 to 50. */
  minTaskMs?: number;
  maxTaskMs?: number;
  /** After the chaos phase, how long to wait for every task to end (ms). Default 180 000. */
  settleLimitMs?: number;
  /** Submit task i in the ordering lane `lane-(i mod N)`; 0 for none. Default 0. */
  orderingKeys?: number;
  /** Use this Kafka (never restarted) instead of a broker of our own. */
  kafkaBrokers?: string;
  /** Port of our own broker (the first one of a cluster). Default 19192. */
  kafkaPort?: number;
  /**
   * Brokers of our own cluster. With more than one the broker restart is a SIGKILL of the
   * broker leading most task partitions, brought back after `brokerDownMs`. Default 1.
   */
  kafkaBrokerCount?: number;
  /** How long the SIGKILLed broker of a cluster stays down (ms). Default 5000. */
  brokerDownMs?: number;
  /** Where the JSON report goes; null for nowhere. Default chaos/results. */
  resultsDir?: string | null;
  /** Progress lines. Default: stderr. */
  log?: (line: string) => void;
}

/** One SIGKILL and how long its tasks took to be finished elsewhere. */
export interface KillRecord {
  workerId: string;
  /** ms since the chaos phase began. */
  atMs: number;
  /** Tasks the worker held (claimed, unfinished) when it died. */
  held: number;
  /** From the kill to the last held task's finish elsewhere; null if none held or unfinished. */
  recoveryMs: number | null;
  /** Held tasks that did not end success. */
  unrecovered: number;
}

export interface ChaosReport {
  ok: boolean;
  startedAt: string;
  command: string;
  settings: Required<Omit<ChaosOptions, 'kafkaBrokers' | 'resultsDir' | 'log' | 'concurrency'>> & {
    concurrency: number | null;
    kafkaBrokers: string;
    ownBroker: boolean;
  };
  elapsedMs: { chaosPhase: number; settle: number; total: number };
  tasks: {
    submitted: number;
    success: number;
    lost: number;
    lostByStatus: Record<string, number>;
    wrong: number;
    /** Successes no completed handler run produced (counted in `wrong`). */
    unexecuted: number;
    executedMoreThanOnce: number;
    executedMoreThanOncePercent: number;
    maxExecutions: number;
    /** Handler starts above one, runs cut short by a kill included. */
    startedMoreThanOnce: number;
    /** Tasks the reaper took back from a dead worker at least once (`losses` > 0). */
    recoveredFromDeadWorkers: number;
  };
  submitErrors: Record<string, number>;
  kills: {
    count: number;
    withTasks: number;
    recoveryMs: { p50: number | null; p90: number | null; max: number | null };
    unrecovered: number;
    list: KillRecord[];
  };
  brokerRestart: null | {
    stoppedAtMs: number;
    backAtMs: number;
    downMs: number;
    /** The broker SIGKILLed (a cluster), or null for the stop of a single broker. */
    killedBroker: number | null;
    /** From the stop/SIGKILL to the first finish of a task accepted after it; null if none. */
    firstFinishMs: number | null;
    /**
     * From the stop/SIGKILL to the start of the first second from which tasks finish again,
     * over 3 seconds, at half the rate of the 10 s before it or more; null if never.
     */
    resumeMs: number | null;
    /** Tasks finished in each second from 10 s before the stop/SIGKILL to 50 s after it. */
    finishesPerSecond: number[];
  };
  workers: {
    started: number;
    unexpectedExits: Array<{ workerId: string; atMs: number; code: number | null }>;
  };
  logFile: string;
  examples: { lost: unknown[]; wrong: unknown[]; duplicates: unknown[] };
  /** With `orderingKeys`: runs of a lane that overlapped or ran out of order (must be 0). */
  lanes: LaneFigures | null;
}

/** The broker restart as it happened, before the time to resume is known. */
export type BrokerRestart = Omit<
  NonNullable<ChaosReport['brokerRestart']>,
  'firstFinishMs' | 'resumeMs' | 'finishesPerSecond'
>;

/** The options with their defaults filled in. */
export type ChaosSettings = ReturnType<typeof chaosSettings>;

/** Fills in the defaults of {@link ChaosOptions} (the issue's full-size run). */
export function chaosSettings(options: ChaosOptions) {
  return {
    tasks: options.tasks ?? 5000,
    workers: options.workers ?? 3,
    killEveryMs: options.killEveryMs ?? 2000,
    durationMs: options.durationMs ?? 120_000,
    submitOverMs: options.submitOverMs ?? 40_000,
    brokerRestart: options.brokerRestart ?? true,
    brokerRestartAtMs: options.brokerRestartAtMs ?? 15_000,
    minTaskMs: options.minTaskMs ?? 1,
    maxTaskMs: options.maxTaskMs ?? 50,
    settleLimitMs: options.settleLimitMs ?? 180_000,
    kafkaPort: options.kafkaPort ?? 19192,
    kafkaBrokerCount: options.kafkaBrokerCount ?? 1,
    brokerDownMs: options.brokerDownMs ?? 5000,
    orderingKeys: options.orderingKeys ?? 0,
  };
}

/** The command line that ran this (for the report). */
export function commandLine(): string {
  return `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
}

function brokerLine(restart: ChaosReport['brokerRestart']): string {
  if (restart === null) return 'none';
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const what =
    restart.killedBroker === null ? 'stopped' : `broker ${restart.killedBroker} SIGKILLed`;
  return `${what} at +${restart.stoppedAtMs} ms, down ${restart.downMs} ms; first task accepted after it finished after ${ms(restart.firstFinishMs)}, finishes back to half rate after ${ms(restart.resumeMs)}`;
}

/** Prints the run's figures to stdout. */
export function printSummary(report: ChaosReport): void {
  const { tasks, kills } = report;
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const lines = [
    '',
    `chaos run ${report.startedAt}: ${report.ok ? 'PASSED' : 'FAILED'}`,
    `  tasks submitted          ${tasks.submitted}`,
    `  lost (not success)       ${tasks.lost}${tasks.lost > 0 ? ` ${JSON.stringify(tasks.lostByStatus)}` : ''}`,
    `  wrong results            ${tasks.wrong}${tasks.unexecuted > 0 ? ` (${tasks.unexecuted} never executed)` : ''}`,
    `  executed more than once  ${tasks.executedMoreThanOnce} (${tasks.executedMoreThanOncePercent} %, max ${tasks.maxExecutions} runs)`,
    `  started more than once   ${tasks.startedMoreThanOnce} (runs cut short by a kill included)`,
    `  taken from dead workers  ${tasks.recoveredFromDeadWorkers}`,
    `  kills                    ${kills.count} (${kills.withTasks} holding tasks)`,
    `  recovery after a kill    p50 ${ms(kills.recoveryMs.p50)}, p90 ${ms(kills.recoveryMs.p90)}, max ${ms(kills.recoveryMs.max)}`,
    `  broker restart           ${brokerLine(report.brokerRestart)}`,
    `  submit errors            ${JSON.stringify(report.submitErrors)}`,
    `  workers started          ${report.workers.started} (${report.workers.unexpectedExits.length} exited by themselves)`,
    ...(report.lanes === null
      ? []
      : [
          `  ordering lanes           ${report.lanes.keys} lanes, ${report.lanes.violations} runs out of turn${report.lanes.violations > 0 ? ` ${JSON.stringify(report.lanes.examples)}` : ''}`,
        ]),
    `  time                     chaos ${report.elapsedMs.chaosPhase} ms, settle ${report.elapsedMs.settle} ms`,
    `  worker logs              ${report.logFile}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
