import type { Broker } from './broker.ts';
import { encodeEnvelope, envelopeOf } from './envelope.ts';
import type { TaskRecord } from './task-record.ts';

/** Header names on dead-lettered messages. */
export const DLQ_HEADERS = {
  error: 'yadtq-error',
  code: 'yadtq-error-code',
  reason: 'yadtq-dead-letter-reason',
  taskId: 'yadtq-task-id',
  worker: 'yadtq-worker',
  sourcePartition: 'yadtq-source-partition',
  sourceOffset: 'yadtq-source-offset',
} as const;

/**
 * Produces a copy of a task that ended `failed` for good to `<topic>.dlq`: its envelope
 * (last attempt) with the error in headers, so it can be inspected and resubmitted.
 */
export function deadLetterTask(
  broker: Broker,
  record: TaskRecord,
  reason: 'exhausted' | 'worker-lost',
): Promise<void> {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.taskId]: record.id,
    [DLQ_HEADERS.error]: record.error?.message ?? 'unknown error',
    [DLQ_HEADERS.code]: record.error?.code ?? record.error?.name ?? 'TASK_FAILED',
  };
  if (record.worker !== null) headers[DLQ_HEADERS.worker] = record.worker;
  return broker.produce('dead-letter', [
    { key: record.id, value: encodeEnvelope(envelopeOf(record)), headers },
  ]);
}
