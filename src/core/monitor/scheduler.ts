import type { Broker } from '../broker.ts';
import { envelopeOf, taskMessage } from '../envelope.ts';
import type { Logger } from '../logger.ts';
import type { LagSnapshot } from '../stats.ts';
import type { MonitorStore, WorkerRegistry } from '../store.ts';

const BATCH = 500;
const MAX_BATCHES_PER_TICK = 10;

/**
 * Produces the retries and delayed tasks whose time has come, then marks them `queued`.
 * Producing first means a crash in between produces a task twice at worst, never loses
 * it: the claim step refuses the duplicate.
 */
export async function produceDueTasks(context: {
  store: Pick<MonitorStore, 'dueTasks' | 'promote'>;
  broker: Broker;
  logger: Logger;
  now: number;
}): Promise<number> {
  const { store, broker, logger, now } = context;
  let produced = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
    const due = await store.dueTasks(now, BATCH);
    if (due.length === 0) break;
    await broker.produce(
      'tasks',
      due.map((record) => taskMessage(envelopeOf(record))),
    );
    await Promise.all(due.map((record) => store.promote(record.id, record.attempt, now)));
    produced += due.length;
    logger.debug('scheduled tasks produced', { count: due.length });
    if (due.length < BATCH) break;
  }
  return produced;
}

/**
 * Produces waiting low-priority tasks, oldest first, while the task log's backlog is
 * small: as many as the live workers' slots exceed the consumer lag (tasks produced and
 * not yet settled, running ones included). So a low task gives way to every normal and
 * high one already in the log, and runs once the fleet has room; at its runAt (the
 * longest it gives way) the due-task step produces it whatever the backlog.
 */
export async function produceLowTasks(context: {
  store: Pick<MonitorStore, 'waitingLow' | 'promote'>;
  registry: Pick<WorkerRegistry, 'list'>;
  lag: () => Promise<LagSnapshot>;
  broker: Broker;
  logger: Logger;
  now: number;
}): Promise<number> {
  const { store, registry, lag, broker, logger, now } = context;
  const waiting = await store.waitingLow(BATCH);
  if (waiting.length === 0) return 0;
  const [workers, backlog] = await Promise.all([registry.list(), lag()]);
  const slots = workers.reduce((sum, w) => sum + (w.alive ? w.concurrency : 0), 0);
  const room = Math.min(waiting.length, slots - backlog.total);
  if (room <= 0) return 0;
  const produced = waiting.slice(0, room);
  await broker.produce(
    'tasks',
    produced.map((record) => taskMessage(envelopeOf(record))),
  );
  await Promise.all(produced.map((record) => store.promote(record.id, record.attempt, now)));
  logger.debug('low-priority tasks produced', { count: produced.length, backlog: backlog.total });
  return produced.length;
}
