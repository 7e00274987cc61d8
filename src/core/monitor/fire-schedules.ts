import { DEFAULTS } from '../defaults.ts';
import type { Logger } from '../logger.ts';
import { nextTick, ticksBetween } from '../schedule/cron.ts';
import { type ScheduleStore, tickRecord } from '../schedule/schedule.ts';
import type { TaskStore } from '../store.ts';

/**
 * Creates the tasks of the schedules whose tick has come, then moves each to its next
 * tick. A tick's task has one id on every monitor (`<schedule>:<tick time>`) and a create
 * never writes over an existing id, so two monitors firing the same tick (a leader killed
 * between the create and the move, or two that both think they lead) make one task. The
 * tasks are created due (in the scheduled set): the due-task step produces them, this tick
 * or, after a crash, the next leader's. Ticks missed while no monitor ran fire once (the
 * latest), or each of them with the schedule's `catchUp`.
 */
export async function fireSchedules(context: {
  schedules: Pick<ScheduleStore, 'dueSchedules' | 'advanceSchedule'>;
  tasks: Pick<TaskStore, 'createMany'>;
  logger: Logger;
  now: number;
}): Promise<number> {
  const { schedules, tasks, logger, now } = context;
  let created = 0;
  for (const schedule of await schedules.dueSchedules(now, DEFAULTS.schedulesPerTick)) {
    try {
      const limit = schedule.catchUp ? DEFAULTS.scheduleCatchUpTicks : 1;
      const ticks = ticksBetween(schedule, schedule.next - 1, now, limit);
      const records = ticks.map((tick) => tickRecord(schedule, tick, now));
      const outcomes = await tasks.createMany(records, { dedup: false, useCache: false });
      const made = outcomes.filter((o) => o.kind === 'created').length;
      created += made;
      await schedules.advanceSchedule(
        schedule.name,
        schedule.next,
        nextTick(schedule, now),
        ticks.at(-1),
      );
      if (made > 0) logger.debug('schedule fired', { schedule: schedule.name, tasks: made });
    } catch (error) {
      // One schedule's trouble (its cron no longer parses) does not hold up the others.
      logger.warn('firing a schedule failed', { schedule: schedule.name, error: String(error) });
    }
  }
  return created;
}
