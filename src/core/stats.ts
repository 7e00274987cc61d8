import type { TaskStatus } from './task-record.ts';

/** One finished attempt, as the worker reports it for monitoring. */
export interface TaskOutcomeEvent {
  taskId: string;
  name: string;
  workerId: string;
  status: Extract<TaskStatus, 'success' | 'failed' | 'retrying' | 'cancelled'>;
  /** Run time of the attempt (0 when answered from the cache). */
  durationMs: number;
  finishedAt: number;
  cached: boolean;
  /** The error message of a failed attempt. */
  error?: string;
}

/** Where workers report outcomes for stats, dashboards and metrics (bounded storage). */
export interface StatsRecorder {
  record(event: TaskOutcomeEvent): Promise<void>;
}
