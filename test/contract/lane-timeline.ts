// What the ordering-lanes suite reads from the handler runs it recorded: overlaps and order
// within a key, and how many keys (or plain tasks) ran at one instant. Judged from the
// high-resolution start and end each handler recorded itself, never from wall-clock bounds.

/** One handler run, recorded from inside the handler. */
export interface LaneRun {
  taskId: string;
  /** The task's ordering key; null for a plain task. */
  key: string | null;
  /** Its place among the tasks of its key in submit order (0, 1, …). */
  seq: number;
  /** `performance.timeOrigin + performance.now()` at the handler's start and end. */
  startedAt: number;
  endedAt: number;
  workerId: string;
}

/** High-resolution wall time (ms, fractional), comparable across the workers of one process. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The runs of each key, sorted by start. Plain runs (key null) are left out. */
export function runsByKey(runs: readonly LaneRun[]): Map<string, LaneRun[]> {
  const byKey = new Map<string, LaneRun[]>();
  for (const run of runs) {
    if (run.key === null) continue;
    const list = byKey.get(run.key);
    if (list === undefined) byKey.set(run.key, [run]);
    else list.push(run);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  return byKey;
}

/** Each pair of consecutive runs of one key where the later started before the earlier ended. */
export function overlapsWithinKeys(
  runs: readonly LaneRun[],
): Array<{ key: string; earlier: LaneRun; later: LaneRun }> {
  const found: Array<{ key: string; earlier: LaneRun; later: LaneRun }> = [];
  for (const [key, list] of runsByKey(runs)) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.startedAt < list[i - 1]!.endedAt)
        found.push({ key, earlier: list[i - 1]!, later: list[i]! });
    }
  }
  return found;
}

/** The keys whose runs, in start order, are not their submit order 0, 1, 2, …, with that order. */
export function keysOutOfOrder(runs: readonly LaneRun[]): Array<{ key: string; order: number[] }> {
  const found: Array<{ key: string; order: number[] }> = [];
  for (const [key, list] of runsByKey(runs)) {
    const order = list.map((run) => run.seq);
    if (order.some((seq, i) => seq !== i)) found.push({ key, order });
  }
  return found;
}

/**
 * The most distinct groups running at one instant, by a sweep over start and end events.
 * An end at the same instant as a start is taken first: touching runs do not overlap.
 */
export function maxConcurrentGroups(
  runs: readonly LaneRun[],
  groupOf: (run: LaneRun) => string,
): number {
  const events = runs.flatMap((run) => [
    { at: run.startedAt, delta: 1, group: groupOf(run) },
    { at: run.endedAt, delta: -1, group: groupOf(run) },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const running = new Map<string, number>();
  let most = 0;
  for (const { delta, group } of events) {
    const count = (running.get(group) ?? 0) + delta;
    if (count === 0) running.delete(group);
    else running.set(group, count);
    most = Math.max(most, running.size);
  }
  return most;
}

/** Handler runs per task id. */
export function runsPerTask(runs: readonly LaneRun[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.taskId, (counts.get(run.taskId) ?? 0) + 1);
  return counts;
}
