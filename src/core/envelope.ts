import { isTraceparent } from '../telemetry/traceparent.ts';
import { YadtqError } from './errors.ts';
import type { JsonValue } from './json.ts';
import { isUnsetOption, type UnsetOption } from './unset-options.ts';

/** The task message on the Kafka topic, version 1 (see DESIGN.md, "Wire format"). */
export interface TaskEnvelope {
  v: 1;
  id: string;
  name: string;
  args: JsonValue;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  dedupKey: string | null;
  submittedAt: number;
  /**
   * The options the submitter left unset (a submit by name): `timeoutMs` and
   * `maxAttempts` above are then the client's defaults, and a worker that knows the task
   * replaces them with its definition's. Written last and only when not empty, so the
   * message stays version 1: a worker without this field reads it and uses the values.
   */
  unset?: UnsetOption[];
  /**
   * The W3C `traceparent` of the submit's producer span (also in the message headers):
   * kept on the record, so every attempt of the task joins the submitter's trace. Written
   * last and only when tracing, so the message stays version 1.
   */
  traceparent?: string;
  /**
   * The task's ordering lane (`SubmitOptions.orderingKey`), so a claim that finds no
   * record still puts the task in its lane. Written last and only when set, so the
   * message stays version 1.
   */
  orderingKey?: string;
}

/** The task fields an envelope carries (a record has them all). */
export type EnvelopeFields = Omit<TaskEnvelope, 'v'>;

/** Serialises an envelope with its fields in the documented order ({@link envelopeOf}'s). */
export function encodeEnvelope(envelope: TaskEnvelope): string {
  return JSON.stringify(envelopeOf(envelope));
}

/**
 * Parses and validates a message value.
 * @throws YadtqError INVALID_MESSAGE naming the first thing that is wrong.
 */
export function decodeEnvelope(text: string): TaskEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid('not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.v !== 1) throw invalid(`unsupported version ${JSON.stringify(m.v)} (expected 1)`);
  if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > 200)
    throw invalid('"id" must be a non-empty string');
  if (typeof m.name !== 'string' || m.name.length === 0)
    throw invalid('"name" must be a non-empty string');
  if (!('args' in m)) throw invalid('"args" is missing');
  for (const field of ['attempt', 'maxAttempts', 'timeoutMs', 'submittedAt'] as const) {
    const n = m[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw invalid(`"${field}" must be a whole number ≥ 0`);
  }
  if ((m.attempt as number) < 1) throw invalid('"attempt" must be ≥ 1');
  if (m.dedupKey !== null && typeof m.dedupKey !== 'string')
    throw invalid('"dedupKey" must be a string or null');
  if (m.unset !== undefined && !(Array.isArray(m.unset) && m.unset.every(isString)))
    throw invalid('"unset" must be an array of option names');
  // Names this version does not know (from a newer client) are left to their values.
  const unset = ((m.unset ?? []) as string[]).filter(isUnsetOption);
  if (m.orderingKey !== undefined && !isOrderingKey(m.orderingKey))
    throw invalid(`"orderingKey" must be a string of 1 to ${MAX_ORDERING_KEY} characters`);
  // A malformed traceparent is dropped, not refused: the task runs, in a trace of its own.
  const traceparent = isTraceparent(m.traceparent) ? m.traceparent : undefined;
  return {
    v: 1,
    id: m.id,
    name: m.name,
    args: m.args as JsonValue,
    attempt: m.attempt as number,
    maxAttempts: m.maxAttempts as number,
    timeoutMs: m.timeoutMs as number,
    dedupKey: m.dedupKey as string | null,
    submittedAt: m.submittedAt as number,
    ...(unset.length > 0 ? { unset } : {}),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(m.orderingKey === undefined ? {} : { orderingKey: m.orderingKey as string }),
  };
}

/** The longest ordering key (characters): a key names a lane, it is not a payload. */
export const MAX_ORDERING_KEY = 1000;

/** Whether `value` can be an ordering key: a string of 1 to {@link MAX_ORDERING_KEY} characters. */
export function isOrderingKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ORDERING_KEY;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function invalid(why: string): YadtqError {
  return new YadtqError('INVALID_MESSAGE', `invalid task message: ${why}`);
}

/** The envelope that carries a record's current attempt. */
export function envelopeOf(record: EnvelopeFields): TaskEnvelope {
  const { id, name, args, attempt, maxAttempts, timeoutMs, dedupKey, submittedAt, unset } = record;
  const { traceparent, orderingKey } = record;
  const envelope: TaskEnvelope = {
    v: 1,
    id,
    name,
    args,
    attempt,
    maxAttempts,
    timeoutMs,
    dedupKey,
    submittedAt,
  };
  if (unset !== undefined && unset.length > 0) envelope.unset = [...unset];
  if (traceparent !== undefined) envelope.traceparent = traceparent;
  if (orderingKey !== undefined) envelope.orderingKey = orderingKey;
  return envelope;
}

/**
 * The message that carries `envelope`, with its `traceparent` header when it has one
 * (the envelope keeps it too: the header is for other Kafka tooling). Its Kafka key:
 * `key` when given, else the ordering key (a lane's tasks share a partition, so they
 * come in order and seldom park), else the task id.
 */
export function taskMessage(
  envelope: TaskEnvelope,
  key: string = envelope.orderingKey ?? envelope.id,
): { key: string; value: string; headers?: Record<string, string> } {
  const value = encodeEnvelope(envelope);
  return envelope.traceparent === undefined
    ? { key, value }
    : { key, value, headers: { traceparent: envelope.traceparent } };
}
