import type { Broker, BrokerMessage, StoredMessage } from './broker.ts';
import { DLQ_HEADERS } from './dead-letter.ts';
import { DEFAULTS } from './defaults.ts';
import { decodeEnvelope, envelopeOf, type TaskEnvelope, taskMessage } from './envelope.ts';
import { check, positive } from './options.ts';
import { checkFilter, type DeadLetterFilter } from './redrive-filter.ts';
import { ledgerEntry, type ReplayLedger, type ReplayMark } from './replay-ledger.ts';
import type { TaskStore } from './store.ts';
import { recordFromEnvelope, type TaskRecord } from './task-record.ts';

/** What a replay reads and writes: the dead-letter topic, task records, the ledger. */
export interface RedriveSource {
  broker: Pick<Broker, 'deadLetters' | 'produce'>;
  store: Pick<TaskStore, 'get' | 'resubmit' | 'createMany'>;
  replays: ReplayLedger;
}

/** A dead-lettered message with its entry id and whether it was replayed. */
export interface DeadLetter extends StoredMessage {
  /** `<partition>:<offset>`: how a replay names it. */
  entry: string;
  /** The mark of its replay, or null when it was not replayed. */
  replayed: ReplayMark | null;
}

/** Why an entry was not replayed. */
export type ReplayRefusal =
  /** A replay (this one or an earlier one) already ran it: see `replayed`. */
  | 'already-replayed'
  /** Another entry of this replay runs the same task. */
  | 'same-task'
  /** The task's record is not failed or cancelled (it runs, or ran again and succeeded). */
  | 'not-retryable'
  /** The record is gone and the body was cut to fit the dead-letter topic. */
  | 'truncated'
  /** The record is gone and the body is not a valid task envelope. */
  | 'invalid-body'
  /** The record was gone, and someone else made it anew meanwhile. */
  | 'exists'
  /** The task got its new attempt, but its message could not be produced (see `detail`). */
  | 'produce-failed';

/** What a replay did with one chosen entry. */
export interface ReplayResult {
  entry: string;
  taskId: string | null;
  /** The task name, from the body or the record; null when neither gives it. */
  name: string | null;
  reason: string | null;
  /** `would-replay` only in a dry run. */
  outcome: 'replayed' | 'would-replay' | 'refused';
  /** Where the new attempt came from: the task's record, or the body (record gone). */
  from?: 'record' | 'body';
  /** The attempt it runs as (replayed). */
  attempt?: number;
  refused?: ReplayRefusal;
  /** Why, in words (refused). */
  detail?: string;
  /** The earlier replay's mark (`already-replayed`). */
  replayed?: ReplayMark;
}

/** What {@link replayDeadLetters} did, entry by entry, oldest first. */
export interface ReplayReport {
  dryRun: boolean;
  /** Entries the filter chose (before the limit stopped the replay). */
  matched: number;
  replayed: number;
  refused: number;
  results: ReplayResult[];
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayOptions {
  /** Only say what would be replayed: nothing is written. Default false. */
  dryRun?: boolean;
  /** Newest entries looked through. Default `DEFAULTS.replayScanLimit`. */
  scanLimit?: number;
  /** How long a replay's mark is kept. Default `DEFAULTS.replayLedgerTtlMs`. */
  ledgerTtlMs?: number;
}

/** Entries taken on together: one batch of store steps and one produce. */
const CHUNK = 100;

/** The newest `limit` dead-lettered messages, oldest first, each with its replay mark. */
export async function listDeadLetters(
  source: Pick<RedriveSource, 'broker' | 'replays'>,
  limit: number,
): Promise<DeadLetter[]> {
  const messages = await source.broker.deadLetters(check('limit', limit, positive));
  const marks = await source.replays.marks(messages.map(ledgerEntry));
  return messages.map((message) => ({
    ...message,
    entry: `${message.partition}:${message.offset}`,
    replayed: marks.get(ledgerEntry(message)) ?? null,
  }));
}

/**
 * Runs the dead-lettered tasks `filter` chooses again, oldest first, each as a new
 * attempt: from the task's record when it still exists (it must be failed or cancelled),
 * else from the dead-letter body when that is a complete, valid envelope (never a cut
 * one): the record is made anew. Each entry is replayed at most once: its mark in the
 * ledger is taken (atomically) before its task is touched, so a second replay, even a
 * concurrent one, is refused. A replayed task runs even when an identical one is in
 * flight or cached (a replay asks for a run).
 * @throws YadtqError INVALID_OPTION for a bad filter; BROKER_UNAVAILABLE, STORE_UNAVAILABLE
 */
export async function replayDeadLetters(
  source: RedriveSource,
  filter: DeadLetterFilter = {},
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const chosen = checkFilter(filter);
  const dryRun = options.dryRun === true;
  const scanLimit = check('scanLimit', options.scanLimit ?? DEFAULTS.replayScanLimit, positive);
  const ttlMs = check('ledgerTtlMs', options.ledgerTtlMs ?? DEFAULTS.replayLedgerTtlMs, positive);
  const candidates = await choose(source, await source.broker.deadLetters(scanLimit), chosen);
  const report = { dryRun, matched: candidates.length, replayed: 0, refused: 0 };
  const results: ReplayResult[] = [];
  const planned = new Set<string>();
  let next = 0;
  while (
    next < candidates.length &&
    (chosen.limit === undefined || report.replayed < chosen.limit)
  ) {
    const room =
      chosen.limit === undefined ? CHUNK : Math.min(CHUNK, chosen.limit - report.replayed);
    const chunk = candidates.slice(next, next + room);
    next += chunk.length;
    await fillRecords(source.store, chunk);
    const marks = await source.replays.marks(chunk.map((c) => c.key));
    const plans = chunk.map((c) => plan(c, marks.get(c.key), planned));
    const done = dryRun
      ? plans.map((p) =>
          'result' in p ? p.result : { ...p.base, outcome: 'would-replay' as const, from: p.from },
        )
      : await run(source, plans, ttlMs);
    for (const result of done) {
      results.push(result);
      if (result.outcome === 'refused') report.refused++;
      else report.replayed++;
    }
  }
  return { ...report, results };
}

/** An entry the filter chose, with what is known of its task. */
interface Candidate {
  message: StoredMessage;
  entry: string;
  /** Its ledger key. */
  key: string;
  taskId: string | null;
  reason: string | null;
  envelope: TaskEnvelope | null;
  /** Why the body is no envelope (when `envelope` is null). */
  bodyError: string | null;
  truncated: boolean;
  /** undefined until read. */
  record?: TaskRecord | null;
}

/** The entries `filter` chooses of `messages`, oldest first. */
async function choose(
  source: Pick<RedriveSource, 'store'>,
  messages: readonly StoredMessage[],
  filter: DeadLetterFilter,
): Promise<Candidate[]> {
  const entries = filter.entries === undefined ? undefined : new Set(filter.entries);
  const candidates = messages
    .map(candidateOf)
    .filter(
      (c) =>
        (filter.reason === undefined || c.reason === filter.reason) &&
        (filter.since === undefined || (c.message.timestamp ?? 0) >= filter.since) &&
        (entries === undefined || entries.has(c.entry)),
    );
  if (filter.task === undefined) return candidates;
  // The body names the task; a record is read only for an entry whose body does not.
  await fillRecords(
    source.store,
    candidates.filter((c) => c.envelope === null),
  );
  return candidates.filter((c) => nameOf(c) === filter.task);
}

function candidateOf(message: StoredMessage): Candidate {
  const headers = message.headers ?? {};
  const truncated =
    headers[DLQ_HEADERS.originalSize] !== undefined ||
    headers[DLQ_HEADERS.originalSha256] !== undefined;
  let envelope: TaskEnvelope | null = null;
  let bodyError: string | null = null;
  if (truncated)
    bodyError = `the body was cut to fit the dead-letter topic (${headers[DLQ_HEADERS.originalSize] ?? '?'} bytes)`;
  else {
    try {
      envelope = decodeEnvelope(message.value);
    } catch (error) {
      bodyError = (error as Error).message;
    }
  }
  return {
    message,
    entry: `${message.partition}:${message.offset}`,
    key: ledgerEntry(message),
    taskId: envelope?.id ?? headers[DLQ_HEADERS.taskId] ?? null,
    reason: headers[DLQ_HEADERS.reason] ?? null,
    envelope,
    bodyError,
    truncated,
  };
}

function nameOf(c: Candidate): string | null {
  return c.envelope?.name ?? c.record?.name ?? null;
}

/** Reads the records of `candidates` not read yet, together. */
async function fillRecords(
  store: Pick<TaskStore, 'get'>,
  candidates: readonly Candidate[],
): Promise<void> {
  const unread = candidates.filter((c) => c.record === undefined);
  for (let at = 0; at < unread.length; at += CHUNK) {
    const part = unread.slice(at, at + CHUNK);
    const records = await Promise.all(
      part.map((c) => (c.taskId === null ? null : store.get(c.taskId))),
    );
    part.forEach((c, i) => {
      c.record = records[i]!;
    });
  }
}

type Base = Pick<ReplayResult, 'entry' | 'taskId' | 'name' | 'reason'>;

/** How an entry is replayed, or why not. */
type Plan =
  | { result: ReplayResult }
  | { base: Base; candidate: Candidate; from: 'record'; taskId: string }
  | { base: Base; candidate: Candidate; from: 'body'; taskId: string; envelope: TaskEnvelope };

function plan(c: Candidate, mark: ReplayMark | undefined, planned: Set<string>): Plan {
  const base: Base = { entry: c.entry, taskId: c.taskId, name: nameOf(c), reason: c.reason };
  const refuse = (refused: ReplayRefusal, detail: string, extra: Partial<ReplayResult> = {}) => ({
    result: { ...base, outcome: 'refused' as const, refused, detail, ...extra },
  });
  if (mark !== undefined) {
    const as = mark.attempt === null ? '' : ` as attempt ${mark.attempt}`;
    return refuse(
      'already-replayed',
      `replayed at ${new Date(mark.at).toISOString()}${as} of task ${mark.taskId}`,
      { replayed: mark },
    );
  }
  const record = c.record ?? null;
  if (c.taskId !== null && planned.has(c.taskId))
    return refuse('same-task', `task ${c.taskId} runs again from an earlier entry of this replay`);
  if (record !== null) {
    if (record.status !== 'failed' && record.status !== 'cancelled')
      return refuse(
        'not-retryable',
        `task ${record.id} is ${record.status}: only a failed or cancelled task runs again`,
      );
    planned.add(record.id);
    return { base, candidate: c, from: 'record', taskId: record.id };
  }
  if (c.truncated)
    return refuse('truncated', `its record is gone and ${c.bodyError}: it is never replayed as is`);
  if (c.envelope === null)
    return refuse('invalid-body', `its record is gone and its body is no task: ${c.bodyError}`);
  planned.add(c.envelope.id);
  return { base, candidate: c, from: 'body', taskId: c.envelope.id, envelope: c.envelope };
}

/** Takes each planned entry's mark, gives its task a new attempt, and produces them together. */
async function run(
  source: RedriveSource,
  plans: readonly Plan[],
  ttlMs: number,
): Promise<ReplayResult[]> {
  const steps = await Promise.all(
    plans.map((p): Step | Promise<Step> =>
      'result' in p ? { result: p.result } : replayOne(source, p, ttlMs),
    ),
  );
  const produced = steps.filter((s) => s.message !== undefined);
  if (produced.length === 0) return steps.map((s) => s.result);
  try {
    await source.broker.produce(
      'tasks',
      produced.map((s) => s.message!),
    );
  } catch (error) {
    // The records moved on and keep their marks: replaying them again would run them twice.
    await Promise.all(produced.map((s) => source.replays.update(s.key!, s.mark!)));
    for (const step of produced) {
      step.result = {
        ...step.result,
        outcome: 'refused',
        refused: 'produce-failed',
        detail: `task ${step.result.taskId} is queued as attempt ${step.result.attempt} but its message was not produced: ${(error as Error).message}`,
      };
    }
    return steps.map((s) => s.result);
  }
  await Promise.all(produced.map((s) => source.replays.update(s.key!, s.mark!)));
  return steps.map((s) => s.result);
}

interface Step {
  result: ReplayResult;
  message?: BrokerMessage;
  key?: string;
  mark?: ReplayMark;
}

async function replayOne(
  source: RedriveSource,
  p: Exclude<Plan, { result: ReplayResult }>,
  ttlMs: number,
): Promise<Step> {
  const { base, candidate, from, taskId } = p;
  const at = Date.now();
  const taken = await source.replays.take(
    candidate.key,
    { at, taskId, attempt: null, from },
    ttlMs,
  );
  if (!taken) {
    const [mark] = (await source.replays.marks([candidate.key])).values();
    const replayed = mark === undefined ? {} : { replayed: mark };
    const detail = 'another replay took this entry just now';
    return {
      result: { ...base, outcome: 'refused', refused: 'already-replayed', detail, ...replayed },
    };
  }
  const refuse = async (refused: ReplayRefusal, detail: string): Promise<Step> => {
    await source.replays.release(candidate.key);
    return { result: { ...base, outcome: 'refused', refused, detail } };
  };
  let record: TaskRecord;
  if (p.from === 'record') {
    const transition = await source.store.resubmit(taskId, at);
    if (!transition.ok) {
      const now = await source.store.get(taskId);
      return refuse(
        'not-retryable',
        `task ${taskId} is ${now?.status ?? 'gone'}: only a failed or cancelled task runs again`,
      );
    }
    record = transition.record;
  } else {
    const attempt = p.envelope.attempt + 1;
    record = {
      ...recordFromEnvelope({
        ...p.envelope,
        attempt,
        maxAttempts: Math.max(p.envelope.maxAttempts, attempt),
      }),
      useCache: false,
    };
    const [outcome] = await source.store.createMany([record], { dedup: false, useCache: false });
    if (outcome?.kind !== 'created')
      return refuse('exists', `task ${taskId} was made anew by someone else meanwhile`);
  }
  const mark: ReplayMark = { at, taskId, attempt: record.attempt, from };
  return {
    result: { ...base, outcome: 'replayed', from, attempt: record.attempt },
    message: taskMessage(envelopeOf(record)),
    key: candidate.key,
    mark,
  };
}
