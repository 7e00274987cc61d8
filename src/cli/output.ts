import type { TaskRecord } from '../core/task-record.ts';

/** A record as the CLI prints it: the documented fields, in the documented order. */
export function recordJson(record: TaskRecord): string {
  const { id, name, args, status, result, error, worker, attempt, maxAttempts, timeoutMs } = record;
  const { submittedAt, startedAt, finishedAt, durationMs, dedupKey, cached } = record;
  return JSON.stringify({
    id,
    name,
    args,
    status,
    result,
    error,
    worker,
    attempt,
    maxAttempts,
    timeoutMs,
    submittedAt,
    startedAt,
    finishedAt,
    durationMs,
    dedupKey,
    cached,
  });
}

/** Left-aligned columns for a terminal. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
