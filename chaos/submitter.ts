// The chaos run's client: submits the tasks at a steady rate (in batches of at most 250)
// through the library, and submits a batch again when it was not accepted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskClient } from '../src/index.ts';
import { laneOf } from './lanes.ts';
import { chaos } from './tasks.ts';

/** What the submitter learnt: each accepted task's index and acceptance time. */
export interface Submissions {
  /** Task id → its index in the run. */
  indexOf: Map<string, number>;
  /** Task id → wall-clock ms it was accepted. */
  acceptedAt: Map<string, number>;
  /** Accepted tasks not seen ended yet (the follower removes them). */
  pending: Set<string>;
  /** Failed submits by error code. */
  errors: Record<string, number>;
  /** True once every task is accepted. */
  done: boolean;
}

/**
 * Submits `tasks` chaos tasks spread evenly over `submitOverMs` from `t0` (all at once for
 * 0), task i sleeping `sleepMs[i]` (in lane `laneOf(i)` with `orderingKeys`); resolves
 * when every one is accepted.
 */
export async function submitAll(
  client: TaskClient,
  options: {
    tasks: number;
    submitOverMs: number;
    sleepMs: number[];
    t0: number;
    orderingKeys: number;
  },
  into: Submissions,
  log: (line: string) => void,
): Promise<void> {
  const { tasks, submitOverMs, sleepMs, t0, orderingKeys } = options;
  let next = 0;
  while (next < tasks) {
    const due =
      submitOverMs === 0
        ? tasks
        : Math.min(tasks, Math.ceil((tasks * (Date.now() - t0 + 100)) / submitOverMs));
    if (due <= next) {
      await sleep(100);
      continue;
    }
    const batch: number[] = [];
    for (let i = next; i < Math.min(due, next + 250); i++) batch.push(i);
    try {
      const groups = orderingKeys === 0 ? [batch] : byLane(batch, orderingKeys);
      // One submitMany per lane, in one tick: one create, in lane order within each.
      const submitted = await Promise.all(
        groups.map((group) =>
          client.submitMany(
            chaos,
            group.map((i) => [i, sleepMs[i]!] as [number, number]),
            orderingKeys === 0 ? {} : { orderingKey: laneOf(group[0]!, orderingKeys) },
          ),
        ),
      );
      const at = Date.now();
      const indices = groups.flat();
      submitted.flat().forEach((handle, k) => {
        into.indexOf.set(handle.id, indices[k]!);
        into.acceptedAt.set(handle.id, at);
        into.pending.add(handle.id);
      });
      next = batch[batch.length - 1]! + 1;
    } catch (error) {
      // Not accepted (the records were discarded): submit the same work again.
      const code = (error as { code?: string }).code ?? String(error);
      into.errors[code] = (into.errors[code] ?? 0) + 1;
      log(`submit of ${batch.length} tasks failed (${code}); trying again`);
      await sleep(500);
    }
  }
  into.done = true;
  log(`all ${tasks} tasks accepted at +${Date.now() - t0} ms`);
}

/** The batch's task indices grouped by lane, each group in submit order. */
function byLane(batch: readonly number[], keys: number): number[][] {
  const lanes = new Map<string, number[]>();
  for (const i of batch) {
    const lane = laneOf(i, keys);
    lanes.set(lane, [...(lanes.get(lane) ?? []), i]);
  }
  return [...lanes.values()];
}
