import { TaskClient } from '../../core/client.ts';
import { DEFAULTS } from '../../core/defaults.ts';
import { port, token as tokenRule } from '../../core/options.ts';
import { listDeadLetters, replayDeadLetters } from '../../core/redrive.ts';
import { isLoopback } from '../../dashboard/auth.ts';
import { Dashboard, type TaskActions } from '../../dashboard/server.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { stderrLogger } from '../log.ts';

/**
 * `yadtq dashboard [--port 8080] [--host 127.0.0.1] [--token T] [--allowed-host H]…`: the
 * live web dashboard, its JSON API and `/metrics`, until SIGINT/SIGTERM. The token may
 * also come from `YADTQ_DASHBOARD_TOKEN` (kept out of the process list).
 */
export const dashboardCommand = defineCommand({
  name: 'dashboard',
  summary:
    'Serves the live web dashboard, its JSON API under /api/ and /metrics, until SIGINT/SIGTERM.',
  flags: {
    port: {
      value: '<port>',
      description: 'port to listen on',
      default: DEFAULTS.dashboardPort,
      number: port,
    },
    host: { value: '<host>', description: 'address to bind', default: DEFAULTS.dashboardHost },
    token: {
      value: '<secret>',
      description: 'token every route needs, required off loopback',
      env: 'YADTQ_DASHBOARD_TOKEN',
    },
    'allowed-host': {
      value: '<name>',
      description: 'a host name the dashboard may be reached by (a proxy)',
      multiple: true,
    },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('dashboard takes no arguments');
    const token = values.token ?? (process.env.YADTQ_DASHBOARD_TOKEN || undefined);
    if (token !== undefined && !tokenRule.accepts(token)) {
      throw new UsageError(`--token must be ${tokenRule.says}`);
    }
    if (!isLoopback(values.host) && token === undefined) {
      throw new UsageError(
        `refusing to serve the dashboard on ${values.host} without --token: anyone who can ` +
          'reach it could retry and cancel tasks (bind to 127.0.0.1, or set a token)',
      );
    }
    const logger = stderrLogger();
    const backend = await connect(values, 'yadtq-dashboard');
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const candidate = client as unknown as Partial<TaskActions>;
    const actions =
      typeof candidate.retry === 'function' && typeof candidate.cancel === 'function'
        ? (candidate as TaskActions)
        : undefined;
    const dashboard = new Dashboard({
      source: backend,
      ...(actions === undefined ? {} : { actions }),
      deadLetters: {
        list: (limit) => listDeadLetters(backend, limit),
        replay: (filter, options) => replayDeadLetters(backend, filter, options),
      },
      host: values.host,
      port: values.port,
      allowedHosts: values['allowed-host'] ?? [],
      ...(token === undefined ? {} : { token }),
      logger,
    });
    try {
      await dashboard.listen();
    } catch (error) {
      await backend.close();
      throw error;
    }
    process.stdout.write(
      `yadtq dashboard on ${dashboard.url} (JSON API under /api/, Prometheus at /metrics${token ? '; every route needs the token, browsers log in at /login' : ''})\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    await dashboard.close();
    await backend.close();
    return 0;
  },
});
