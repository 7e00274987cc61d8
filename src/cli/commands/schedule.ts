import { TaskClient } from '../../core/client.ts';
import { isYadtqError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import { positive } from '../../core/options.ts';
import { buildSchedule, type ScheduleOptions } from '../../core/schedule/define-schedule.ts';
import type { Schedule } from '../../core/schedule/schedule.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

const time = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

/**
 * `yadtq schedule add <name> --cron … --task … [--args …] [--tz …]`, `schedule list`,
 * `schedule remove <name>`: recurring tasks, fired by the workers' monitor leader.
 */
export const scheduleCommand = defineCommand({
  name: 'schedule',
  args: 'add <name> | list | remove <name>',
  summary:
    'Adds (or replaces), lists or removes a schedule: one task of --task at each tick of --cron, across the fleet.',
  flags: {
    cron: {
      value: '<expr>',
      description: 'add: 5 fields (minute hour day month weekday), or 6 with seconds first',
    },
    task: { value: '<task>', description: 'add: the task each tick creates' },
    args: { value: '<json>', description: 'add: its args as JSON (default [])' },
    tz: {
      value: '<zone>',
      description: 'add: the IANA time zone the cron is read in (default UTC)',
    },
    'catch-up': {
      description: 'add: run every tick missed while no worker ran, not only the latest',
    },
    'max-attempts': {
      value: 'N',
      description: "add: attempts of each tick's task",
      number: positive,
    },
    timeout: {
      value: '<ms>',
      description: "add: time limit of each tick's task",
      number: positive,
    },
    json: { description: 'print JSON' },
  },
  run: async (values, positionals) => {
    const [action, name, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError('schedule takes one action and at most one <name>');
    if (action === 'list') {
      if (name !== undefined) throw new UsageError('schedule list takes no <name>');
      return withClient(values, async (client) => print(await client.schedules(), values.json));
    }
    if (action === 'remove') {
      if (name === undefined) throw new UsageError('schedule remove takes a <name>');
      return withClient(values, async (client) => {
        const removed = await client.unschedule(name);
        process.stdout.write(`${JSON.stringify({ name, removed })}\n`);
        return removed ? 0 : 1;
      });
    }
    if (action !== 'add') throw new UsageError('schedule takes add, list or remove');
    if (name === undefined) throw new UsageError('schedule add takes a <name>');
    if (values.cron === undefined) throw new UsageError('schedule add needs --cron');
    if (values.task === undefined) throw new UsageError('schedule add needs --task');
    let args: JsonValue = [];
    if (values.args !== undefined) {
      try {
        args = JSON.parse(values.args) as JsonValue;
      } catch (error) {
        throw new UsageError(`--args is not JSON: ${values.args} (${(error as Error).message})`);
      }
    }
    const options: ScheduleOptions = {
      cron: values.cron,
      ...(values.tz === undefined ? {} : { tz: values.tz }),
      catchUp: values['catch-up'],
      ...(values['max-attempts'] === undefined ? {} : { maxAttempts: values['max-attempts'] }),
      ...(values.timeout === undefined ? {} : { timeoutMs: values.timeout }),
    };
    try {
      // Checked before connecting: a bad cron, zone or name is a bad command line.
      buildSchedule(name, values.task, args, options, undefined, Date.now());
    } catch (error) {
      if (isYadtqError(error)) throw new UsageError(error.message);
      throw error;
    }
    const task = values.task;
    return withClient(values, async (client) => {
      const schedule = await client.schedule(name, task, args, options);
      process.stdout.write(`${JSON.stringify({ name, next: time(schedule.next) })}\n`);
      return 0;
    });
  },
});

async function withClient(
  values: Parameters<typeof connect>[0],
  act: (client: TaskClient) => Promise<number>,
): Promise<number> {
  const backend = await connect(values);
  try {
    const { broker, store, schedules } = backend;
    return await act(new TaskClient({ broker, store, schedules }));
  } finally {
    await backend.close();
  }
}

function print(schedules: Schedule[], json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ schedules })}\n`);
    return 0;
  }
  if (schedules.length === 0) {
    process.stdout.write('no schedules\n');
    return 0;
  }
  const rows = schedules.map((s) => [
    s.name,
    s.cron,
    s.tz ?? 'UTC',
    s.task,
    time(s.next),
    time(s.lastTick),
  ]);
  process.stdout.write(`${table(['NAME', 'CRON', 'TZ', 'TASK', 'NEXT', 'LAST'], rows)}\n`);
  return 0;
}
