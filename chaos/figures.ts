// The chaos run's figures, from the task records and from what the handlers recorded in
// Redis: lost, wrong, executed more than once, recovery after each kill, and how fast
// finishes came back after the broker restart.
import type { Redis } from 'ioredis';
import type { Backend, TaskRecord } from '../src/index.ts';
import type { ChaosReport, KillRecord } from './report.ts';
import { chaosKeys, expectedResult } from './tasks.ts';

const TERMINAL = new Set(['success', 'failed', 'cancelled']);

/** Drops the ids of tasks that have ended from `pending`. */
export async function refresh(backend: Backend, pending: Set<string>): Promise<void> {
  const ids = [...pending];
  const records = await getRecords(backend, ids).catch(() => []);
  ids.forEach((id, k) => {
    const record = records[k];
    if (record != null && TERMINAL.has(record.status)) pending.delete(id);
  });
}

/** The records of `ids`, fetched together (the store pipelines them). */
export async function getRecords(
  backend: Backend,
  ids: string[],
): Promise<Array<TaskRecord | null>> {
  const out: Array<TaskRecord | null> = [];
  for (let i = 0; i < ids.length; i += 1000) {
    out.push(...(await Promise.all(ids.slice(i, i + 1000).map((id) => backend.store.get(id)))));
  }
  return out;
}

async function counters(redis: Redis, keys: string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const values = await redis.mget(...keys.slice(i, i + 1000));
    out.push(...values.map((v) => Number(v ?? 0)));
  }
  return out;
}

/**
 * The `tasks` and `examples` sections of the report: every accepted task's record against
 * the handler runs recorded for it (`indexOf`: task id → its index in the run).
 */
export async function tallyTasks(
  redis: Redis,
  prefix: string,
  submitted: number,
  indexOf: Map<string, number>,
  byId: Map<string, TaskRecord | null>,
): Promise<{ tasks: ChaosReport['tasks']; examples: ChaosReport['examples'] }> {
  const ids = [...indexOf.keys()];
  const keyed = ids.map((id) => chaosKeys(prefix, id));
  const execs = await counters(
    redis,
    keyed.map((k) => k.exec),
  );
  const starts = await counters(
    redis,
    keyed.map((k) => k.start),
  );
  const lostByStatus: Record<string, number> = {};
  const examples: ChaosReport['examples'] = { lost: [], wrong: [], duplicates: [] };
  let success = 0;
  let wrong = 0;
  let unexecuted = 0;
  let duplicates = 0;
  let maxExecutions = 0;
  let startedTwice = 0;
  let recovered = 0;
  for (const [k, id] of ids.entries()) {
    const record = byId.get(id) ?? null;
    const index = indexOf.get(id)!;
    const executions = execs[k]!;
    maxExecutions = Math.max(maxExecutions, executions);
    if (starts[k]! > 1) startedTwice++;
    if ((record?.losses ?? 0) > 0) recovered++;
    if (executions > 1) {
      duplicates++;
      if (examples.duplicates.length < 10) {
        const by = await redis.lrange(keyed[k]!.by, 0, -1);
        examples.duplicates.push({ id, executions, by, losses: record?.losses });
      }
    }
    if (record?.status !== 'success') {
      const status = record?.status ?? 'missing';
      lostByStatus[status] = (lostByStatus[status] ?? 0) + 1;
      if (examples.lost.length < 10) examples.lost.push({ id, index, record });
      continue;
    }
    success++;
    if (record.result !== expectedResult(index) || executions === 0) {
      wrong++;
      if (executions === 0) unexecuted++;
      if (examples.wrong.length < 10)
        examples.wrong.push({ id, index, result: record.result, executions });
    }
  }
  const lost = ids.length - success + (submitted - ids.length);
  if (submitted > ids.length) lostByStatus['not-accepted'] = submitted - ids.length;
  const tasks: ChaosReport['tasks'] = {
    submitted,
    success,
    lost,
    lostByStatus,
    wrong,
    unexecuted,
    executedMoreThanOnce: duplicates,
    executedMoreThanOncePercent: round((100 * duplicates) / Math.max(1, ids.length), 3),
    maxExecutions,
    startedMoreThanOnce: startedTwice,
    recoveredFromDeadWorkers: recovered,
  };
  return { tasks, examples };
}

/** A SIGKILL as it happened: when, and what the worker held at death. */
export interface Kill {
  workerId: string;
  at: number;
  held: string[];
}

/** The `kills` section: for each kill, from the SIGKILL to its last held task's finish. */
export function tallyKills(
  kills: Kill[],
  t0: number,
  byId: Map<string, TaskRecord | null>,
): ChaosReport['kills'] {
  const list: KillRecord[] = kills.map((kill) => {
    let last = kill.at;
    let unrecovered = 0;
    for (const id of kill.held) {
      const record = byId.get(id) ?? null;
      if (record?.status !== 'success' || record.finishedAt === null) unrecovered++;
      else last = Math.max(last, record.finishedAt);
    }
    return {
      workerId: kill.workerId,
      atMs: kill.at - t0,
      held: kill.held.length,
      recoveryMs: kill.held.length === 0 || unrecovered > 0 ? null : last - kill.at,
      unrecovered,
    };
  });
  const recoveries = list.flatMap((k) => (k.recoveryMs === null ? [] : [k.recoveryMs]));
  return {
    count: list.length,
    withTasks: list.filter((k) => k.held > 0).length,
    recoveryMs: {
      p50: percentile(recoveries, 50),
      p90: percentile(recoveries, 90),
      max: recoveries.length === 0 ? null : Math.max(...recoveries),
    },
    unrecovered: list.reduce((sum, k) => sum + k.unrecovered, 0),
    list,
  };
}

/**
 * After a broker stop/SIGKILL at `downAt`: the first finish of a task accepted after it,
 * the time until finishes came back, and finishes per second around it.
 */
export function afterRestart(
  downAt: number,
  acceptedAt: Map<string, number>,
  byId: Map<string, TaskRecord | null>,
): { firstFinishMs: number | null; resumeMs: number | null; finishesPerSecond: number[] } {
  let firstFinishAt: number | null = null;
  const finishes: number[] = [];
  for (const [id, at] of acceptedAt) {
    const record = byId.get(id);
    if (record?.status !== 'success' || record.finishedAt === null) continue;
    finishes.push(record.finishedAt);
    if (at > downAt) firstFinishAt = Math.min(firstFinishAt ?? Infinity, record.finishedAt);
  }
  const perSecond = finishesPerSecond(finishes, downAt - 10_000, 60);
  return {
    firstFinishMs: firstFinishAt === null ? null : firstFinishAt - downAt,
    resumeMs: resumeMs(perSecond, 10),
    finishesPerSecond: perSecond,
  };
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

/** How many of `times` fall in each of `seconds` seconds from `from`. */
function finishesPerSecond(times: number[], from: number, seconds: number): number[] {
  const counts = Array.from({ length: seconds }, () => 0);
  for (const time of times) {
    const second = Math.floor((time - from) / 1000);
    if (second >= 0 && second < seconds) counts[second]! += 1;
  }
  return counts;
}

/**
 * Given finishes per second with the stop at second `at`: 0 when the rate never fell under
 * half the rate before the stop within 30 s of it, else ms from the stop to the first
 * second after that fall that starts 3 seconds with, in all, at least 3 × half that rate
 * (finishes come in bursts: a worker claims and finishes in batches).
 */
function resumeMs(perSecond: number[], at: number): number | null {
  const before = perSecond.slice(0, at);
  const target = before.reduce((a, b) => a + b, 0) / Math.max(1, before.length) / 2;
  const dip = perSecond.findIndex((n, s) => s >= at && s < at + 30 && n < target);
  if (dip < 0) return 0;
  for (let s = dip; s + 3 <= perSecond.length; s++) {
    const three = perSecond.slice(s, s + 3).reduce((a, b) => a + b, 0);
    if (three >= 3 * target) return (s - at) * 1000;
  }
  return null;
}
