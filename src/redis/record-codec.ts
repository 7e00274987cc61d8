import type { EnvelopeFields } from '../core/envelope.ts';
import type { JsonValue } from '../core/json.ts';
import type { RefusalReason, Transition } from '../core/state-machine.ts';
import type { TaskErrorInfo, TaskRecord, TaskStatus } from '../core/task-record.ts';
import { isUnsetOption } from '../core/unset-options.ts';

/**
 * A task record as the string fields of its Redis hash. Absent values are `''`, JSON
 * values are serialised, booleans are `'1'`/`'0'`; the Lua scripts rely on this layout.
 * A field missing from the hash reads as its default ({@link FIELD_DEFAULTS}, else `''`).
 */
export type RecordFields = Record<keyof TaskRecord, string>;

/** Encodes a record as its hash fields. */
export function encodeRecord(record: TaskRecord): RecordFields {
  return {
    id: record.id,
    name: record.name,
    args: JSON.stringify(record.args),
    status: record.status,
    attempt: String(record.attempt),
    maxAttempts: String(record.maxAttempts),
    timeoutMs: String(record.timeoutMs),
    worker: record.worker ?? '',
    submittedAt: String(record.submittedAt),
    startedAt: optionalNumber(record.startedAt),
    finishedAt: optionalNumber(record.finishedAt),
    durationMs: optionalNumber(record.durationMs),
    result: record.result === null ? '' : JSON.stringify(record.result),
    error: record.error === null ? '' : JSON.stringify(record.error),
    dedupKey: record.dedupKey ?? '',
    cached: record.cached ? '1' : '0',
    useCache: record.useCache ? '1' : '0',
    runAt: optionalNumber(record.runAt),
    losses: String(record.losses),
    cancelRequested: record.cancelRequested ? '1' : '0',
    unset: (record.unset ?? []).join(','),
    traceparent: record.traceparent ?? '',
    orderingKey: record.orderingKey ?? '',
    laneSeq: optionalNumber(record.laneSeq ?? null),
    parkedOn: record.parkedOn ?? '',
    slot: record.slot ?? '',
    priority: record.priority ?? '',
  };
}

/** What a field missing from the hash decodes as, when that is not `''`. */
const FIELD_DEFAULTS: Partial<RecordFields> = {
  cached: '0',
  useCache: '1',
  losses: '0',
  cancelRequested: '0',
};

/**
 * Encodes a record as a flat `field, value, …` list, the shape HSET takes, leaving out
 * the fields that hold their default (about half of them while a task waits): a missing
 * field decodes the same, and the hash is smaller to send and to keep.
 */
export function recordToArgs(record: TaskRecord): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(encodeRecord(record))) {
    if (value !== '' && value !== FIELD_DEFAULTS[field as keyof TaskRecord])
      args.push(field, value);
  }
  return args;
}

/** Decodes the fields of a hash (HGETALL); null when the hash is empty (no such task). */
export function decodeRecord(fields: Record<string, string>): TaskRecord | null {
  if (fields.id === undefined) return null;
  const text = (field: keyof TaskRecord): string => fields[field] ?? '';
  return {
    id: text('id'),
    name: text('name'),
    args: parseJson(text('args')),
    status: text('status') as TaskStatus,
    attempt: Number(text('attempt')),
    maxAttempts: Number(text('maxAttempts')),
    timeoutMs: Number(text('timeoutMs')),
    worker: text('worker') || null,
    submittedAt: Number(text('submittedAt')),
    startedAt: parseOptionalNumber(text('startedAt')),
    finishedAt: parseOptionalNumber(text('finishedAt')),
    durationMs: parseOptionalNumber(text('durationMs')),
    result: parseJson(text('result')),
    error: text('error') === '' ? null : (JSON.parse(text('error')) as TaskErrorInfo),
    dedupKey: text('dedupKey') || null,
    cached: text('cached') === '1',
    useCache: text('useCache') !== '0',
    // Missing fields (left out at create, or from before they existed) take their default.
    runAt: parseOptionalNumber(text('runAt')),
    losses: Number(text('losses') || '0'),
    cancelRequested: text('cancelRequested') === '1',
    ...unsetField(text('unset')),
    ...(text('traceparent') === '' ? {} : { traceparent: text('traceparent') }),
    ...laneFields(text('orderingKey'), text('laneSeq')),
    ...(text('parkedOn') === '' ? {} : { parkedOn: text('parkedOn') }),
    ...(text('slot') === '' ? {} : { slot: text('slot') }),
    ...priorityField(text('priority')),
  };
}

/** A record's priority: left out when normal (the usual case). */
function priorityField(text: string): Pick<TaskRecord, 'priority'> {
  return text === 'high' || text === 'low' ? { priority: text } : {};
}

/** A record's lane fields: left out when it has no lane (the usual case). */
function laneFields(
  orderingKey: string,
  laneSeq: string,
): Pick<TaskRecord, 'orderingKey' | 'laneSeq'> {
  if (orderingKey === '') return {};
  return laneSeq === '' ? { orderingKey } : { orderingKey, laneSeq: Number(laneSeq) };
}

/** The `unset` field of a record: left out when the hash has none (the usual case). */
function unsetField(text: string): Pick<TaskRecord, 'unset'> {
  const unset = text.split(',').filter(isUnsetOption);
  return unset.length === 0 ? {} : { unset };
}

/** Decodes a flat `field, value, …` list (a Lua script's HGETALL), from index `start`. */
export function decodeRecordReply(reply: readonly string[], start = 0): TaskRecord | null {
  const fields: Record<string, string> = {};
  for (let i = start; i + 1 < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
  return decodeRecord(fields);
}

function optionalNumber(value: number | null): string {
  return value === null ? '' : String(value);
}

function parseOptionalNumber(text: string): number | null {
  return text === '' ? null : Number(text);
}

function parseJson(text: string): JsonValue {
  return text === '' ? null : (JSON.parse(text) as JsonValue);
}

/**
 * The record a claim made, from the claim script's reply `{'claimed', cache, error,
 * result, cached, useCache, losses, cancelRequested, laneSeq}` (nil for a missing field) and what
 * the claim knows: the envelope's fields (the record's own, for the attempt it claimed),
 * `processing` under `workerId` since `now`.
 */
export function decodeClaimReply(
  reply: readonly (string | null)[],
  envelope: EnvelopeFields,
  workerId: string,
  now: number,
): TaskRecord {
  const text = (index: number): string => reply[index] ?? '';
  return {
    id: envelope.id,
    name: envelope.name,
    args: envelope.args,
    status: 'processing',
    attempt: envelope.attempt,
    maxAttempts: envelope.maxAttempts,
    timeoutMs: envelope.timeoutMs,
    worker: workerId,
    submittedAt: envelope.submittedAt,
    startedAt: now,
    finishedAt: null,
    durationMs: null,
    error: text(2) === '' ? null : (JSON.parse(text(2)) as TaskErrorInfo),
    result: parseJson(text(3)),
    dedupKey: envelope.dedupKey || null,
    cached: text(4) === '1',
    useCache: text(5) !== '0',
    runAt: null,
    losses: Number(text(6) || '0'),
    cancelRequested: text(7) === '1',
    ...(envelope.unset !== undefined && envelope.unset.length > 0
      ? { unset: [...envelope.unset] }
      : {}),
    ...(envelope.traceparent === undefined ? {} : { traceparent: envelope.traceparent }),
    ...laneFields(envelope.orderingKey ?? '', text(8)),
  };
}

/** Decodes a transition script's reply: `{'ok', field, value, …}` or `{'refused', reason}`. */
export function decodeTransition(reply: readonly string[]): Transition {
  if (reply[0] === 'refused') return { ok: false, reason: reply[1] as RefusalReason };
  const record = decodeRecordReply(reply, 1);
  if (reply[0] !== 'ok' || record === null) {
    throw new Error(`unexpected reply of a transition script: ${JSON.stringify(reply[0])}`);
  }
  return { ok: true, record };
}

/** The result in a result cache entry; undefined when there is none or it is unreadable. */
export function parseCacheEntry(entry: string): JsonValue | undefined {
  if (entry === '') return undefined;
  try {
    const parsed = JSON.parse(entry) as { result?: JsonValue };
    return 'result' in parsed ? parsed.result : undefined;
  } catch {
    return undefined;
  }
}
