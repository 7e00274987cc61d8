import type { Schedule, ScheduleStore } from '../core/schedule/schedule.ts';

/** The embedded {@link ScheduleStore}: schedules live as long as the process. */
export class MemorySchedules implements ScheduleStore {
  readonly #schedules = new Map<string, Schedule>();

  async putSchedule(schedule: Schedule): Promise<void> {
    this.#schedules.set(schedule.name, structuredClone(schedule));
  }

  async removeSchedule(name: string): Promise<boolean> {
    return this.#schedules.delete(name);
  }

  async schedules(): Promise<Schedule[]> {
    return [...this.#schedules.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((s) => structuredClone(s));
  }

  async dueSchedules(now: number, limit: number): Promise<Schedule[]> {
    return [...this.#schedules.values()]
      .filter((s) => s.next <= now)
      .sort((a, b) => a.next - b.next)
      .slice(0, limit)
      .map((s) => structuredClone(s));
  }

  async advanceSchedule(name: string, from: number, to: number, fired?: number): Promise<boolean> {
    const schedule = this.#schedules.get(name);
    if (schedule === undefined || schedule.next !== from) return false;
    schedule.next = to;
    if (fired !== undefined) schedule.lastTick = fired;
    return true;
  }
}
