import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OUTCOMES, type Outcome, readOverview } from '../core/stats.ts';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from '../metrics/prometheus.ts';
import { deadLetterRoute } from './dead-letter-routes.ts';
import { HttpGuard, refuse } from './http-guard.ts';
import { errorMessage, json, readBody } from './http-io.ts';
import { LOGIN_CSP, loginPage } from './login-page.ts';
import {
  type DashboardOptions,
  type ResolvedDashboardOptions,
  resolveDashboardOptions,
} from './options.ts';

export type {
  DashboardOptions,
  DashboardSource,
  DeadLetterActions,
  TaskActions,
} from './options.ts';

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dead-letters.js': { file: 'dead-letters.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: Chromium then sends `Origin: null` with the page's own form posts.
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

/**
 * The web dashboard: a static page, a read-only JSON API under `/api/`, server-sent
 * events with a fresh overview every second, Prometheus `/metrics`, and token-guarded
 * retry/cancel actions and dead-letter replays. One overview is read per interval however many pages watch.
 */
export class Dashboard {
  readonly #options: ResolvedDashboardOptions;
  readonly #guard: HttpGuard;
  readonly #server: Server;
  readonly #clients = new Set<ServerResponse>();
  readonly #files = new Map<string, Buffer>();
  #timer: NodeJS.Timeout | undefined;
  #broadcasting = false;

  /**
   * @throws YadtqError INVALID_OPTION for a host other than loopback without a token, a
   * short token, a bad allowed host or stream cap.
   */
  constructor(options: DashboardOptions) {
    this.#options = resolveDashboardOptions(options);
    const { host } = this.#options;
    this.#guard = new HttpGuard({
      host,
      ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
      ...(options.token === undefined ? {} : { token: options.token }),
      port: () => (this.#server.address() as AddressInfo | null)?.port ?? -1,
    });
    for (const { file } of Object.values(STATIC)) {
      this.#files.set(file, readFileSync(new URL(`./static/${file}`, import.meta.url)));
    }
    this.#server = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => {
        this.#options.logger.error('dashboard request failed', {
          url: request.url,
          error: String(error),
        });
        if (!response.headersSent) json(response, 500, { error: errorMessage(error) });
        else response.end();
      });
    });
  }

  /** Starts listening; resolves with the page's URL. */
  async listen(): Promise<string> {
    const { host, port } = this.#options;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  /** The page's URL once listening. */
  get url(): string {
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/`;
  }

  /** Ends the live streams and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const page = path === '/' || path === '/index.html' || path === '/login';
    const refusal = this.#guard.checkOrigin(request);
    if (refusal !== null) {
      request.resume();
      this.#options.logger.warn('dashboard request refused', {
        path,
        host: request.headers.host,
        origin: request.headers.origin,
      });
      return refuse(response, refusal, !page);
    }
    if (path === '/login' || path === '/logout') return this.#login(request, response, path);
    if (this.#guard.checkToken(request) !== null) {
      request.resume();
      if (page) return this.#loginForm(response, 401);
      return refuse(response, this.#guard.checkToken(request)!, path.startsWith('/api/'));
    }
    const action = /^\/api\/tasks\/([^/]+)\/(retry|cancel)$/.exec(path);
    if (action !== null) {
      if (method !== 'POST') return json(response, 405, { error: 'use POST' }, { allow: 'POST' });
      return this.#act(request, response, decodeURIComponent(action[1]!), action[2] as 'retry');
    }
    if (path.startsWith('/api/dead-letters'))
      return deadLetterRoute(request, response, url, this.#options);
    if (method !== 'GET' && method !== 'HEAD') {
      return json(response, 405, { error: 'read-only endpoint: use GET' }, { allow: 'GET' });
    }
    const asset = STATIC[path === '/index.html' ? '/' : path];
    if (asset !== undefined) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      response.end(this.#files.get(asset.file));
      return;
    }
    const source = this.#options.source;
    switch (path) {
      case '/api/overview':
        return json(response, 200, await this.#overview());
      case '/api/config':
        return json(response, 200, {
          tokenRequired: this.#options.token !== undefined,
          actions: this.#options.actions !== undefined,
          deadLetters: this.#options.deadLetters !== undefined,
          intervalMs: this.#options.intervalMs,
        });
      case '/api/events':
        return this.#subscribe(response);
      case '/metrics': {
        const overview = await readOverview(source);
        response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        response.end(renderMetrics(overview));
        return;
      }
      case '/api/tasks': {
        const status = url.searchParams.get('status') ?? undefined;
        if (status !== undefined && !OUTCOMES.includes(status as Outcome)) {
          return json(response, 400, { error: `status must be one of ${OUTCOMES.join(', ')}` });
        }
        const limit = Number(url.searchParams.get('limit') ?? 50);
        if (!(Number.isInteger(limit) && limit > 0 && limit <= 1000)) {
          return json(response, 400, { error: 'limit must be a whole number from 1 to 1000' });
        }
        const tasks = await source.stats.recentTasks({
          limit,
          ...(status === undefined ? {} : { status: status as Outcome }),
        });
        return json(response, 200, { tasks });
      }
    }
    const one = /^\/api\/tasks\/([^/]+)$/.exec(path);
    if (one !== null) {
      const record = await source.store.get(decodeURIComponent(one[1]!));
      if (record === null) return json(response, 404, { error: 'no such task (or it expired)' });
      return json(response, 200, { task: record });
    }
    json(response, 404, { error: `nothing at ${path}` });
  }

  async #overview(): Promise<Record<string, unknown>> {
    const started = performance.now();
    const overview = await readOverview(this.#options.source);
    return { ...overview, readMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  /** `GET /login` (the form), `POST /login` (the token, for the cookie), `POST /logout`. */
  async #login(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      request.resume();
      if (path === '/logout') return json(response, 405, { error: 'use POST' }, { allow: 'POST' });
      return this.#loginForm(response, 200);
    }
    if (method !== 'POST') {
      request.resume();
      return json(response, 405, { error: 'use GET or POST' }, { allow: 'GET, POST' });
    }
    if (path === '/logout') {
      request.resume();
      response.writeHead(303, { location: '/login', 'set-cookie': this.#guard.clearedCookie() });
      response.end();
      return;
    }
    const body = await readBody(request, 4096);
    const given = body === null ? null : new URLSearchParams(body).get('token');
    if (!this.#guard.tokenRequired) {
      response.writeHead(303, { location: '/' });
      response.end();
      return;
    }
    if (given === null || !this.#guard.matches(given.trim())) {
      this.#options.logger.warn('dashboard login refused: wrong token', {});
      return this.#loginForm(response, 401, 'That is not the token.');
    }
    response.writeHead(303, { location: '/', 'set-cookie': this.#guard.sessionCookie() });
    response.end();
  }

  #loginForm(response: ServerResponse, status: 200 | 401, error?: string): void {
    response.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': LOGIN_CSP,
      ...(status === 401 ? { 'www-authenticate': 'Bearer realm="yadtq"' } : {}),
    });
    response.end(loginPage(error));
  }

  async #act(
    request: IncomingMessage,
    response: ServerResponse,
    id: string,
    kind: 'retry' | 'cancel',
  ): Promise<void> {
    request.resume();
    const { actions, logger } = this.#options;
    if (actions === undefined) return json(response, 501, { error: `${kind} is not available` });
    try {
      const result = kind === 'retry' ? await actions.retry(id) : await actions.cancel(id);
      logger.info(`dashboard ${kind}`, { taskId: id, ...result });
      json(response, 200, { ok: true, action: kind, taskId: id, ...result });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const status = code === 'TASK_NOT_FOUND' ? 404 : code === 'INVALID_ARGS' ? 409 : 500;
      json(response, status, { error: errorMessage(error), code });
    }
  }

  #subscribe(response: ServerResponse): void {
    if (this.#clients.size >= this.#options.maxEventStreams) {
      json(
        response,
        503,
        { error: `too many live pages (${this.#options.maxEventStreams}); try again later` },
        { 'retry-after': '5' },
      );
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: 2000\n\n`);
    this.#clients.add(response);
    response.on('close', () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    });
    void this.#broadcast();
    this.#timer ??= setInterval(() => void this.#broadcast(), this.#options.intervalMs);
  }

  /** Reads one overview and sends it to every live page (skipped while one is running). */
  async #broadcast(): Promise<void> {
    if (this.#broadcasting || this.#clients.size === 0) return;
    this.#broadcasting = true;
    try {
      let message: string;
      try {
        message = `event: overview\ndata: ${JSON.stringify(await this.#overview())}\n\n`;
      } catch (error) {
        message = `event: failure\ndata: ${JSON.stringify({ error: errorMessage(error) })}\n\n`;
      }
      for (const client of this.#clients) client.write(message);
    } finally {
      this.#broadcasting = false;
    }
  }
}
