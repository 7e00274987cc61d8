// The schedule store's contract and the firing step on it, run on the memory store and on
// Redis: add, replace, list, due, the one-step move of a next tick, remove; two monitors
// firing one tick make one task; missed ticks fire once, or each with catchUp.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { fireSchedules } from '../../src/core/monitor/fire-schedules.ts';
import { buildSchedule } from '../../src/core/schedule/define-schedule.ts';
import { type Schedule, type ScheduleStore, tickTaskId } from '../../src/core/schedule/schedule.ts';
import type { MonitorStore, TaskStore } from '../../src/core/store.ts';

export interface ScheduleStores {
  schedules: ScheduleStore;
  store: TaskStore;
  monitorStore: MonitorStore;
  close(): Promise<void>;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const MINUTE = 60_000;
/** A whole minute far from now, so the tick times are known. */
const T0 = Math.floor(1_764_000_000_000 / MINUTE) * MINUTE;

export function runScheduleStore(label: string, open: () => Promise<ScheduleStores>): void {
  describe(`schedule store: ${label}`, () => {
    let opened: Promise<ScheduleStores> | undefined;
    const stores = () => (opened ??= open());
    after(async () => (await opened)?.close());
    const named = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
    const everyMinute = (name: string, now = T0, catchUp = false): Schedule =>
      buildSchedule(
        name,
        'report',
        { n: 1, list: [] },
        { cron: '* * * * *', catchUp },
        undefined,
        now,
      );

    test('put, list, due, replace and remove', async () => {
      const { schedules } = await stores();
      const a = everyMinute(named('a'));
      await schedules.putSchedule(a);
      assert.equal(a.next, T0 + MINUTE, 'the first tick is the next after now');
      const listed = (await schedules.schedules()).find((s) => s.name === a.name);
      assert.deepEqual(listed, a, 'stored as given (args too: an empty list stays a list)');
      assert.equal(
        (await schedules.dueSchedules(T0 + MINUTE - 1, 100)).some((s) => s.name === a.name),
        false,
      );
      assert.equal(
        (await schedules.dueSchedules(T0 + MINUTE, 100)).some((s) => s.name === a.name),
        true,
      );
      const replaced = { ...a, cron: '*/5 * * * *', next: T0 + 5 * MINUTE };
      await schedules.putSchedule(replaced);
      assert.deepEqual(
        (await schedules.schedules()).find((s) => s.name === a.name),
        replaced,
      );
      assert.equal(await schedules.removeSchedule(a.name), true);
      assert.equal(await schedules.removeSchedule(a.name), false, 'gone');
      assert.equal(
        (await schedules.schedules()).some((s) => s.name === a.name),
        false,
      );
      assert.equal(
        (await schedules.dueSchedules(T0 + 10 * MINUTE, 100)).some((s) => s.name === a.name),
        false,
      );
    });

    test('a next tick moves only from where it was read', async () => {
      const { schedules } = await stores();
      const a = everyMinute(named('move'));
      await schedules.putSchedule(a);
      assert.equal(await schedules.advanceSchedule(a.name, a.next, a.next + MINUTE, a.next), true);
      assert.equal(
        await schedules.advanceSchedule(a.name, a.next, a.next + MINUTE, a.next),
        false,
        'moved already',
      );
      const stored = (await schedules.schedules()).find((s) => s.name === a.name);
      assert.equal(stored?.next, a.next + MINUTE);
      assert.equal(stored?.lastTick, a.next);
      assert.equal(await schedules.advanceSchedule(named('none'), 0, 1), false, 'no such schedule');
    });

    test('two monitors firing the same tick make one task; the tick is created due', async () => {
      const { schedules, store, monitorStore } = await stores();
      const a = everyMinute(named('fire'));
      await schedules.putSchedule(a);
      const now = T0 + MINUTE + 1500;
      // Both read the schedule before either moved it (a leader killed between the two).
      const [due] = [(await schedules.dueSchedules(now, 100)).filter((s) => s.name === a.name)];
      const stale = {
        dueSchedules: async () => due!,
        advanceSchedule: schedules.advanceSchedule.bind(schedules),
      };
      const first = await fireSchedules({ schedules: stale, tasks: store, logger: quiet, now });
      const second = await fireSchedules({
        schedules: stale,
        tasks: store,
        logger: quiet,
        now: now + 3,
      });
      assert.equal(first, 1);
      assert.equal(second, 0, 'the second create found the task');
      const id = tickTaskId(a.name, T0 + MINUTE);
      const record = await store.get(id);
      assert.equal(record?.name, 'report');
      assert.equal(record?.submittedAt, now, 'the first create stands');
      assert.deepEqual(record?.args, { n: 1, list: [] });
      const dueTasks = (await monitorStore.dueTasks(now + 10, 1000)).filter((r) => r.id === id);
      assert.equal(dueTasks.length, 1, 'waiting in the scheduled set for the due step');
      assert.equal(
        (await schedules.schedules()).find((s) => s.name === a.name)?.next,
        T0 + 2 * MINUTE,
      );
    });

    test('missed ticks fire once (the latest), or each of them with catchUp', async () => {
      const { schedules, store } = await stores();
      const once = everyMinute(named('once'));
      const each = everyMinute(named('each'), T0, true);
      await schedules.putSchedule(once);
      await schedules.putSchedule(each);
      // No monitor ran for ten minutes.
      const now = T0 + 10 * MINUTE + 500;
      const own = (s: Schedule) => ({
        dueSchedules: async () =>
          (await schedules.dueSchedules(now, 100)).filter((d) => d.name === s.name),
        advanceSchedule: schedules.advanceSchedule.bind(schedules),
      });
      assert.equal(
        await fireSchedules({ schedules: own(once), tasks: store, logger: quiet, now }),
        1,
      );
      assert.notEqual(
        await store.get(tickTaskId(once.name, T0 + 10 * MINUTE)),
        null,
        'the latest tick',
      );
      assert.equal(await store.get(tickTaskId(once.name, T0 + 9 * MINUTE)), null);
      assert.equal(
        await fireSchedules({ schedules: own(each), tasks: store, logger: quiet, now }),
        10,
      );
      for (let m = 1; m <= 10; m++)
        assert.notEqual(await store.get(tickTaskId(each.name, T0 + m * MINUTE)), null);
      for (const s of [once, each]) {
        const stored = (await schedules.schedules()).find((x) => x.name === s.name);
        assert.equal(stored?.next, T0 + 11 * MINUTE, 'then the next tick after now');
        assert.equal(stored?.lastTick, T0 + 10 * MINUTE);
      }
    });
  });
}
