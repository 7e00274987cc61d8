import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULTS } from '../../core/defaults.ts';
import type { TaskDefinition } from '../../core/define-task.ts';
import { positive, token, wholeNumber } from '../../core/options.ts';
import { TaskWorker } from '../../core/worker/worker.ts';
import { isLoopback } from '../../dashboard/auth.ts';
import { demoTasks } from '../../demo.ts';
import { type MetricsServer, parseListenAddress, serveMetrics } from '../../metrics/server.ts';
import { WorkerMetrics } from '../../metrics/worker-metrics.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { stderrLogger } from '../log.ts';

/** Exit code of a worker that stopped by itself to be restarted (too many zombie handlers). */
export const EXIT_RESTART = 3;

/**
 * `yadtq worker <workerId> [--concurrency N] [--max-zombies N] [--tasks <module>]
 * [--metrics-port [host:]port] [--metrics-token T] [--allowed-host H]…`: runs until
 * SIGTERM/SIGINT, or until zombie handlers pass `--max-zombies`; then it drains and exits
 * {@link EXIT_RESTART} for its supervisor. The metrics token may also come from
 * `YADTQ_METRICS_TOKEN`.
 */
export const workerCommand = defineCommand({
  name: 'worker',
  args: '<workerId>',
  summary:
    'Runs a worker until SIGINT/SIGTERM (it drains first), or until zombie handlers pass --max-zombies (exit 3).',
  flags: {
    concurrency: {
      value: 'N',
      description: 'tasks run at once',
      default: DEFAULTS.concurrency,
      number: positive,
    },
    'max-zombies': {
      value: 'N',
      description: 'zombie handlers kept before a restart',
      default: DEFAULTS.maxZombies,
      number: wholeNumber(0),
    },
    tasks: {
      value: '<module>',
      description: 'module exporting the task definitions (default: the demo tasks)',
    },
    'metrics-port': { value: '[host:]port', description: 'serve /metrics, /healthz and /readyz' },
    'metrics-token': {
      value: '<secret>',
      description: 'token /metrics needs, required off loopback',
      env: 'YADTQ_METRICS_TOKEN',
    },
    'allowed-host': {
      value: '<name>',
      description: 'a host name /metrics may be reached by',
      multiple: true,
    },
  },
  run: async (values, positionals) => {
    if (positionals.length !== 1) throw new UsageError('worker takes exactly one <workerId>');
    const { concurrency } = values;
    const maxZombies = values['max-zombies'];
    let listen: { host: string; port: number } | undefined;
    try {
      if (values['metrics-port'] !== undefined) listen = parseListenAddress(values['metrics-port']);
    } catch (error) {
      throw new UsageError(`--metrics-port: ${(error as Error).message}`);
    }
    const metricsToken = values['metrics-token'] ?? (process.env.YADTQ_METRICS_TOKEN || undefined);
    if (metricsToken !== undefined && !token.accepts(metricsToken)) {
      throw new UsageError(`--metrics-token must be ${token.says}`);
    }
    if (listen !== undefined && !isLoopback(listen.host) && metricsToken === undefined) {
      throw new UsageError(
        `refusing to serve metrics on ${listen.host} without --metrics-token (bind to 127.0.0.1, or set a token)`,
      );
    }
    const tasks = values.tasks === undefined ? demoTasks : await loadTasks(values.tasks);
    const logger = stderrLogger();
    const backend = await connect(values, `yadtq-${positionals[0]}`);
    const metrics = listen === undefined ? undefined : new WorkerMetrics(backend.stats);
    const worker = new TaskWorker({
      id: positionals[0]!,
      broker: backend.broker,
      store: backend.store,
      registry: backend.registry,
      monitorStore: backend.monitorStore,
      lag: () => backend.lag(),
      schedules: backend.schedules,
      stats: metrics?.recorder ?? backend.stats,
      tasks,
      concurrency,
      maxZombies,
      logger,
    });
    let metricsServer: MetricsServer | undefined;
    try {
      await worker.start();
      if (metrics !== undefined && listen !== undefined) {
        metricsServer = await serveMetrics({
          ...listen,
          ...(metricsToken === undefined ? {} : { token: metricsToken }),
          allowedHosts: values['allowed-host'] ?? [],
          render: () =>
            metrics.render({ worker, registry: backend.registry, lag: () => backend.lag() }),
          health: () => worker.health(),
        });
        logger.info('metrics served', { workerId: worker.id, url: metricsServer.url });
      }
    } catch (error) {
      await worker.stop().catch(() => {});
      await backend.close();
      throw error;
    }
    const signalled = new Promise<void>((done) => {
      const onSignal = (signal: string) => {
        logger.info('stopping: waiting for running tasks (a second signal exits at once)', {
          workerId: worker.id,
          signal,
        });
        process.once('SIGINT', () => process.exit(130));
        process.once('SIGTERM', () => process.exit(143));
        done();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    const stoppedByItself = worker.whenStopped();
    await Promise.race([signalled, stoppedByItself]);
    await worker.stop();
    const reason = await stoppedByItself;
    await metricsServer?.close();
    await backend.close();
    if (reason.by === 'request') return 0;
    logger.error(`worker exiting with code ${EXIT_RESTART} to be restarted: ${reason.message}`, {
      workerId: worker.id,
      zombies: reason.zombies,
    });
    return EXIT_RESTART;
  },
});

/** Every task definition a module exports (named exports, or arrays of them). */
async function loadTasks(path: string): Promise<TaskDefinition[]> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const found = Object.values(module)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .filter(isDefinition);
  const unique = [...new Map(found.map((t) => [t.name, t])).values()];
  if (unique.length === 0)
    throw new UsageError(`--tasks ${path} exports no task definitions (made with defineTask)`);
  return unique;
}

function isDefinition(value: unknown): value is TaskDefinition {
  const v = value as TaskDefinition | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.handler === 'function' &&
    typeof v.options === 'object'
  );
}
