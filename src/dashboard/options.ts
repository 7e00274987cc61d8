import { DEFAULTS } from '../core/defaults.ts';
import { YadtqError } from '../core/errors.ts';
import { type Logger, type LoggerOption, toLogger } from '../core/logger.ts';
import { nonEmpty, optional, port, token, wholeNumber } from '../core/options.ts';
import type { DeadLetter, ReplayOptions, ReplayReport } from '../core/redrive.ts';
import type { DeadLetterFilter } from '../core/redrive-filter.ts';
import type { LagSnapshot, StatsReader } from '../core/stats.ts';
import type { MonitorStore, TaskStore, WorkerRegistry } from '../core/store.ts';
import type { TaskStatus } from '../core/task-record.ts';
import { isLoopback } from './auth.ts';

/** What the dashboard reads: a backend's stats, store and lag. */
export interface DashboardSource {
  stats: StatsReader;
  store: Pick<TaskStore, 'get'>;
  registry: Pick<WorkerRegistry, 'list'>;
  lag(): Promise<LagSnapshot>;
  /** Where parked tasks are counted (a backend's); without it the page says unavailable. */
  monitorStore?: Pick<MonitorStore, 'parked'>;
}

/** The task actions of the page (a `TaskClient` provides them). */
export interface TaskActions {
  retry(id: string): Promise<{ id: string; status: TaskStatus }>;
  cancel(id: string): Promise<{ cancelled: boolean; status: TaskStatus }>;
}

/** The dead-letter view and its replay (`listDeadLetters`, `replayDeadLetters` on a backend). */
export interface DeadLetterActions {
  list(limit: number): Promise<DeadLetter[]>;
  replay(filter: DeadLetterFilter, options: Pick<ReplayOptions, 'dryRun'>): Promise<ReplayReport>;
}

/** Options of {@link Dashboard}. */
export interface DashboardOptions {
  source: DashboardSource;
  /** Retry and cancel; without them the action endpoints answer 501. */
  actions?: TaskActions;
  /** The dead letters and their replay; without them those endpoints answer 501. */
  deadLetters?: DeadLetterActions;
  /** Default `DEFAULTS.dashboardHost` (loopback). Another host needs a `token`. */
  host?: string;
  /** Default `DEFAULTS.dashboardPort`; 0 picks a free port. */
  port?: number;
  /**
   * When set, every route needs it: `Authorization: Bearer <token>`, `X-Yadtq-Token`, or
   * the session cookie a browser gets from the login form at `/login`.
   */
  token?: string;
  /**
   * Host names besides loopback and the bound address that requests may be sent to
   * (and pages may come from), e.g. the name of a proxy in front. Default none.
   */
  allowedHosts?: readonly string[];
  /** Live event streams served at once; more are answered 503. Default `DEFAULTS.dashboardMaxStreams`. */
  maxEventStreams?: number;
  /** How often live pages get a new snapshot, in ms. Default `DEFAULTS.dashboardIntervalMs`. */
  intervalMs?: number;
  /** Where refused requests and actions are logged: a yadtq `Logger` or a pino-shaped one. Default: silent. */
  logger?: LoggerOption;
}

/** {@link DashboardOptions} with their defaults filled in and checked. */
export type ResolvedDashboardOptions = Required<
  Omit<DashboardOptions, 'actions' | 'deadLetters' | 'token' | 'allowedHosts' | 'logger'>
> &
  Pick<DashboardOptions, 'actions' | 'deadLetters' | 'token' | 'allowedHosts'> & {
    logger: Logger;
  };

/**
 * @throws YadtqError INVALID_OPTION for a host other than loopback without a token, a
 * short token, a bad port, interval or stream cap.
 */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const host = optional('host', options.host, nonEmpty, DEFAULTS.dashboardHost);
  if (options.token !== undefined && !token.accepts(options.token)) {
    throw new YadtqError('INVALID_OPTION', 'the dashboard token must be at least 8 characters');
  }
  if (!isLoopback(host) && options.token === undefined) {
    throw new YadtqError(
      'INVALID_OPTION',
      `refusing to serve the dashboard on ${host} without a token: anyone who can reach it ` +
        'could retry and cancel tasks; pass --token <secret> (or bind to 127.0.0.1)',
    );
  }
  const maxEventStreams = optional(
    'maxEventStreams',
    options.maxEventStreams,
    wholeNumber(1),
    DEFAULTS.dashboardMaxStreams,
  );
  return {
    ...options,
    host,
    port: optional('port', options.port, port, DEFAULTS.dashboardPort),
    intervalMs: optional(
      'intervalMs',
      options.intervalMs,
      wholeNumber(1),
      DEFAULTS.dashboardIntervalMs,
    ),
    maxEventStreams,
    logger: toLogger(options.logger),
  };
}
