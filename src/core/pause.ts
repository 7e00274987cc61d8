/**
 * Pausing a task name (`TaskClient.pause`, `yadtq pause`): its running tasks finish; its
 * claims from then on (new, retried, due, recovered) park on `pause:<name>` until resume,
 * which offers them again. Implemented by each store beside its claim step.
 */
export interface PauseControl {
  /** Pauses `name`; false when it was paused already. */
  pause(name: string): Promise<boolean>;
  /** Resumes `name`, offering its parked tasks again; how many were offered. */
  resume(name: string): Promise<number>;
  /** The paused task names, sorted. */
  paused(): Promise<string[]>;
}

/** The group a paused task parks on (its record's `parkedOn`). */
export function pauseGroup(name: string): string {
  return `pause:${name}`;
}
