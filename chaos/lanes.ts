// Ordering lanes under chaos (`--ordering-keys N`): task i runs in lane `lane-(i mod N)`,
// and within each lane the last completed handler run of each task must start after the
// one of the task before it in submit order ended, by the times the handlers recorded
// (one machine's clock: the records' startedAt and finishedAt are the workers' clocks
// when they sent their steps, which a batch can put a few ms apart). A run cut short by
// a kill records nothing; the store's lane tests cover those.
import type { Redis } from 'ioredis';
import { chaosKeys } from './tasks.ts';

/** The ordering key of task `index` in a run with `keys` lanes. */
export function laneOf(index: number, keys: number): string {
  return `lane-${index % keys}`;
}

/** What the lane check found. */
export interface LaneFigures {
  keys: number;
  /** Tasks of a lane whose run started before the previous task of its lane ended. */
  violations: number;
  examples: Array<{ lane: string; previous: string; next: string; overlapMs: number }>;
}

interface Run {
  id: string;
  index: number;
  start: number;
  end: number;
}

/** Checks, lane by lane in submit order, that each run started after the previous ended. */
export async function laneFigures(
  redis: Redis,
  prefix: string,
  keys: number,
  indexOf: ReadonlyMap<string, number>,
): Promise<LaneFigures> {
  const ids = [...indexOf.keys()];
  const spans = await Promise.all(ids.map((id) => redis.get(chaosKeys(prefix, id).span)));
  const lanes = new Map<string, Run[]>();
  ids.forEach((id, k) => {
    const span = spans[k];
    if (span == null) return;
    const [start, end] = span.split(',').map(Number);
    const index = indexOf.get(id)!;
    const lane = laneOf(index, keys);
    lanes.set(lane, [...(lanes.get(lane) ?? []), { id, index, start: start!, end: end! }]);
  });
  const figures: LaneFigures = { keys, violations: 0, examples: [] };
  for (const [lane, runs] of lanes) {
    runs.sort((a, b) => a.index - b.index);
    for (let i = 1; i < runs.length; i++) {
      const previous = runs[i - 1]!;
      const next = runs[i]!;
      const overlapMs = previous.end - next.start;
      if (overlapMs <= 0) continue;
      figures.violations++;
      if (figures.examples.length < 5)
        figures.examples.push({ lane, previous: previous.id, next: next.id, overlapMs });
    }
  }
  return figures;
}
