import { createHash } from 'node:crypto';
import type { Broker, BrokerMessage } from './broker.ts';
import { encodeEnvelope, envelopeOf } from './envelope.ts';
import type { TaskRecord } from './task-record.ts';
import { capText } from './text-limits.ts';

/** Header names on dead-lettered messages. */
export const DLQ_HEADERS = {
  error: 'yadtq-error',
  code: 'yadtq-error-code',
  reason: 'yadtq-dead-letter-reason',
  taskId: 'yadtq-task-id',
  worker: 'yadtq-worker',
  sourcePartition: 'yadtq-source-partition',
  sourceOffset: 'yadtq-source-offset',
  /** Set when the body was cut to fit the topic: the original body's size in bytes… */
  originalSize: 'yadtq-original-size',
  /** …and its SHA-256 (hex), so the original can be matched when it is found again. */
  originalSha256: 'yadtq-original-sha256',
} as const;

/** Why a message went to the dead-letter topic. */
export type DeadLetterReason = 'exhausted' | 'worker-lost' | 'invalid-message' | 'expired';

/**
 * Bytes a record adds to a Kafka record batch of its own beyond its key, value and header
 * bytes, counted generously: the batch header (61) and the record's varints (at most 39);
 * each header adds at most 10 more.
 */
const RECORD_OVERHEAD_BYTES = 100;

/** The bytes `message` takes in a record batch of its own, over-estimated a little. */
export function messageBytes(message: BrokerMessage): number {
  let bytes =
    RECORD_OVERHEAD_BYTES + Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 10;
  }
  return bytes;
}

/**
 * `message` as it fits a topic whose limit is `maxBytes` (Kafka's `max.message.bytes`):
 * unchanged when it fits; else its body is cut (at a character boundary) to what fits
 * beside its headers, and the original body's size and SHA-256 are kept in headers. A
 * dead-letter copy must always fit: a copy refused for size would block its partition.
 */
export function fitDeadLetter(message: BrokerMessage, maxBytes: number): BrokerMessage {
  if (messageBytes(message) <= maxBytes) return message;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[capText(name, 200)] = capText(value);
  }
  const body = Buffer.from(message.value);
  headers[DLQ_HEADERS.originalSize] = String(body.length);
  headers[DLQ_HEADERS.originalSha256] = createHash('sha256').update(body).digest('hex');
  const key = capText(message.key, 1024);
  const room = maxBytes - messageBytes({ key, value: '', headers });
  const value = room > 0 ? cutUtf8(body, room) : '';
  return { ...message, key, value, headers };
}

/** The first `bytes` bytes of `body` as text, never splitting a character. */
function cutUtf8(body: Buffer, bytes: number): string {
  let end = Math.min(bytes, body.length);
  // A continuation byte (10xxxxxx) at the cut means a character would be split.
  while (end > 0 && end < body.length && (body[end]! & 0xc0) === 0x80) end--;
  return body.subarray(0, end).toString('utf8');
}

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
    [DLQ_HEADERS.error]: capText(record.error?.message ?? 'unknown error'),
    [DLQ_HEADERS.code]: capText(record.error?.code ?? record.error?.name ?? 'TASK_FAILED', 200),
  };
  if (record.worker !== null) headers[DLQ_HEADERS.worker] = record.worker;
  return broker.produce('dead-letter', [
    { key: record.id, value: encodeEnvelope(envelopeOf(record)), headers },
  ]);
}

/** A delivered message that is dead-lettered as it came: malformed, or its record expired. */
export function deadLetterMessage(
  broker: Broker,
  message: {
    key: string | null;
    value: string;
    headers: Readonly<Record<string, string>>;
    partition?: number;
    offset?: number;
  },
  why: { reason: DeadLetterReason; code: string; error: string; workerId: string; taskId?: string },
): Promise<void> {
  const headers: Record<string, string> = {
    ...message.headers,
    [DLQ_HEADERS.reason]: why.reason,
    [DLQ_HEADERS.error]: capText(why.error),
    [DLQ_HEADERS.code]: why.code,
    [DLQ_HEADERS.worker]: why.workerId,
  };
  const taskId = why.taskId ?? taskIdIn(message.value);
  if (taskId !== undefined) headers[DLQ_HEADERS.taskId] = taskId;
  if (message.partition !== undefined)
    headers[DLQ_HEADERS.sourcePartition] = String(message.partition);
  if (message.offset !== undefined) headers[DLQ_HEADERS.sourceOffset] = String(message.offset);
  return broker.produce('dead-letter', [{ key: message.key ?? '', value: message.value, headers }]);
}

/** The task id a malformed message seems to carry (`"id":"…"` near its start), if any. */
function taskIdIn(value: string): string | undefined {
  return /"id"\s*:\s*"([^"\\]{1,200})"/.exec(value.slice(0, 4096))?.[1];
}
