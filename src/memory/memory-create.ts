import type { JsonValue } from '../core/json.ts';
import type { CreateOutcome } from '../core/store.ts';
import type { TaskRecord } from '../core/task-record.ts';

/**
 * What a create answers when a record under its id is there already (lua/create.lua): it
 * is never written over. From another submission (its `submittedAt` differs) `exists`;
 * the same create sent again answers as the first did.
 */
export function createOfPresent(present: TaskRecord, record: TaskRecord): CreateOutcome {
  if (present.submittedAt !== record.submittedAt) return { kind: 'exists', id: record.id };
  return present.cached
    ? { kind: 'cached', record: structuredClone(present) }
    : { kind: 'created' };
}

/** The record a create answered from the result cache writes: already `success`. */
export function cachedRecord(record: TaskRecord, result: JsonValue): TaskRecord {
  return {
    ...structuredClone(record),
    status: 'success',
    result: structuredClone(result),
    cached: true,
    startedAt: record.submittedAt,
    finishedAt: record.submittedAt,
    durationMs: 0,
    runAt: null,
  };
}
