import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { YadtqError } from '../core/errors.ts';
import { token } from '../core/options.ts';
import type { WorkerHealthReport } from '../core/worker/health.ts';
import { isLoopback } from '../dashboard/auth.ts';
import { HttpGuard, refuse } from '../dashboard/http-guard.ts';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Parses `--metrics-port`: a port (bound to 127.0.0.1) or `host:port`.
 * @throws YadtqError INVALID_OPTION
 */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) {
    throw new YadtqError('INVALID_OPTION', `expected a port or host:port, got ${text}`);
  }
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/**
 * Serves `render()` as Prometheus text at `/metrics`, and with `health` the probes
 * `/healthz` (200 while the worker is live, else 503) and `/readyz` (200 while it takes
 * work, else 503), each answering its {@link WorkerHealthReport} as JSON. The probes are
 * open; `/metrics` is behind the same lock as the dashboard ({@link HttpGuard}): without a token only
 * requests sent to a loopback name, the bound address or an allowed host; with one,
 * every request needs it.
 * @throws YadtqError INVALID_OPTION for a host other than loopback without a token.
 */
export async function serveMetrics(options: {
  host: string;
  port: number;
  render: () => Promise<string>;
  health?: () => WorkerHealthReport;
  /** Required by every request when set (`Authorization: Bearer <token>`). */
  token?: string;
  /** Host names besides loopback and the bound address that requests may be sent to. */
  allowedHosts?: readonly string[];
}): Promise<MetricsServer> {
  // The token is a secret: the message does not show it.
  if (options.token !== undefined && !token.accepts(options.token)) {
    throw new YadtqError('INVALID_OPTION', `the metrics token must be ${token.says}`);
  }
  if (!isLoopback(options.host) && options.token === undefined) {
    throw new YadtqError(
      'INVALID_OPTION',
      `refusing to serve metrics on ${options.host} without a token: anyone who can reach it ` +
        'could read them; set a metrics token (or bind to 127.0.0.1)',
    );
  }
  const guard = new HttpGuard({
    host: options.host,
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    ...(options.token === undefined ? {} : { token: options.token }),
    port: () => (server.address() as AddressInfo | null)?.port ?? -1,
  });
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    const read = request.method === 'GET' || request.method === 'HEAD';
    const { health } = options;
    // The probes answer before the lock: a supervisor or a kubelet calls them by the pod's
    // address and without a token, and they tell no task data, only live/ready and why.
    if (read && health !== undefined && (path === '/healthz' || path === '/readyz')) {
      const report = health();
      const up = path === '/healthz' ? report.live : report.ready;
      response
        .writeHead(up ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(report)}\n`);
      return;
    }
    const refusal = guard.check(request);
    if (refusal !== null) {
      request.resume();
      refuse(response, refusal, false);
      return;
    }
    if (path !== '/metrics' || !read) {
      const routes = health === undefined ? 'GET /metrics' : 'GET /metrics, /healthz, /readyz';
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`only ${routes} here\n`);
      return;
    }
    options.render().then(
      (text) => response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: unknown) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
