import type { Broker } from '../broker.ts';
import { envelopeOf, taskMessage } from '../envelope.ts';
import type { Logger } from '../logger.ts';
import type { MonitorStore } from '../store.ts';

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
