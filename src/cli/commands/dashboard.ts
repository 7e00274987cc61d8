import { parseArgs } from 'node:util';
import { TaskClient } from '../../core/client.ts';
import { isLoopback } from '../../dashboard/auth.ts';
import { Dashboard, type TaskActions } from '../../dashboard/server.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { stderrLogger } from '../log.ts';
import { UsageError } from '../usage.ts';

/**
 * `yadtq dashboard [--port 8080] [--host 127.0.0.1] [--token T] [--allowed-host H]…`: the
 * live web dashboard, its JSON API and `/metrics`, until SIGINT/SIGTERM. The token may
 * also come from `YADTQ_DASHBOARD_TOKEN` (kept out of the process list).
 */
export async function dashboardCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
    },
  });
  if (positionals.length > 0) throw new UsageError('dashboard takes no arguments');
  const port = Number(values.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new UsageError(`--port must be a port number, got ${values.port}`);
  }
  const token = values.token ?? (process.env.YADTQ_DASHBOARD_TOKEN || undefined);
  if (token !== undefined && token.length < 8) {
    throw new UsageError('--token must be at least 8 characters');
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
    host: values.host,
    port,
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
}
