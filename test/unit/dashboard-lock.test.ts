import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Dashboard, type TaskActions } from '../../src/dashboard/server.ts';
import { createMemoryBackend, isYadtqError, TaskClient } from '../../src/index.ts';
import { type MetricsServer, serveMetrics } from '../../src/metrics/server.ts';

const TOKEN = 'lock-test-token-1234';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request with the headers a browser (or an attacker's page) would send; the
 * Host header is set as given, which fetch() does not allow. An event stream is read
 * until its first bytes, then closed, unless `keep` holds it open.
 */
function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    keep?: (close: () => void) => void;
  } = {},
): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        headers: { host: target.host, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        const stream = String(res.headers['content-type']).startsWith('text/event-stream');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (stream) {
            const close = () => res.destroy();
            if (options.keep) options.keep(close);
            else close();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function setup(options: {
  token?: string;
  allowedHosts?: string[];
  maxEventStreams?: number;
}) {
  const backend = createMemoryBackend();
  const client = new TaskClient({ broker: backend.broker, store: backend.store });
  const dashboard = new Dashboard({
    source: backend,
    actions: client as unknown as TaskActions,
    port: 0,
    intervalMs: 200,
    ...options,
  });
  await dashboard.listen();
  const base = dashboard.url.replace(/\/$/, '');
  const port = new URL(base).port;
  return { backend, client, dashboard, base, port };
}

describe('dashboard lock without a token: the Host and Origin checks', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    ctx = await setup({ allowedHosts: ['dash.example'] });
  });
  after(async () => {
    await ctx.dashboard.close();
    await ctx.backend.close();
  });

  test('a DNS-rebinding read (Host: evil.example:PORT) is refused on every route', async () => {
    const host = `evil.example:${ctx.port}`;
    for (const path of ['/', '/app.js', '/api/overview', '/api/tasks', '/api/events', '/metrics']) {
      const answer = await send(`${ctx.base}${path}`, {
        headers: { host, origin: `http://${host}` },
      });
      assert.equal(answer.status, 403, `${path}: ${answer.body}`);
      assert.match(answer.body, /is not served here/);
    }
    const noOrigin = await send(`${ctx.base}/api/overview`, { headers: { host } });
    assert.equal(noOrigin.status, 403, 'a page may read without sending Origin: Host decides');
  });

  test('a DNS-rebinding POST is refused and the task stays queued', async () => {
    const handle = await ctx.client.submit('never-run', [1]);
    const host = `evil.example:${ctx.port}`;
    const answer = await send(`${ctx.base}/api/tasks/${handle.id}/cancel`, {
      method: 'POST',
      headers: { host, origin: `http://${host}` },
    });
    assert.equal(answer.status, 403);
    assert.equal((await ctx.client.status(handle.id))?.status, 'queued');
  });

  test('a plain cross-origin POST is refused, from another site or another local port', async () => {
    const handle = await ctx.client.submit('never-run', [2]);
    for (const origin of ['http://evil.example', 'http://localhost:1', 'null']) {
      const answer = await send(`${ctx.base}/api/tasks/${handle.id}/cancel`, {
        method: 'POST',
        headers: { origin, 'content-type': 'text/plain' },
      });
      assert.equal(answer.status, 403, origin);
      assert.match(answer.body, /cross-origin request refused/);
    }
    assert.equal((await ctx.client.status(handle.id))?.status, 'queued');
    const own = await send(`${ctx.base}/api/tasks/${handle.id}/cancel`, {
      method: 'POST',
      headers: { origin: `http://localhost:${ctx.port}` },
    });
    assert.equal(own.status, 200, own.body);
    assert.equal((await ctx.client.status(handle.id))?.status, 'cancelled');
  });

  test('loopback names, the bound address and an allowed host are served', async () => {
    for (const host of [`127.0.0.1:${ctx.port}`, `localhost:${ctx.port}`, 'dash.example']) {
      const answer = await send(`${ctx.base}/api/config`, { headers: { host } });
      assert.equal(answer.status, 200, host);
      assert.equal(JSON.parse(answer.body).tokenRequired, false);
    }
    const behindProxy = await send(`${ctx.base}/api/config`, {
      headers: { host: 'dash.example', origin: 'https://dash.example' },
    });
    assert.equal(behindProxy.status, 200, 'an allowed host may come through a proxy port');
  });

  test('a bad allowed host fails at construction', () => {
    assert.throws(
      () => new Dashboard({ source: createMemoryBackend(), allowedHosts: ['a/b'] }),
      (error) => isYadtqError(error, 'INVALID_OPTION'),
    );
  });
});

describe('dashboard lock with a token: every route needs it', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let taskId = '';
  const routes = () => [
    ['GET', '/'],
    ['GET', '/index.html'],
    ['GET', '/app.js'],
    ['GET', '/style.css'],
    ['GET', '/api/config'],
    ['GET', '/api/overview'],
    ['GET', '/api/tasks'],
    ['GET', `/api/tasks/${taskId}`],
    ['GET', '/api/events'],
    ['GET', '/metrics'],
    ['POST', `/api/tasks/${taskId}/cancel`],
  ];
  before(async () => {
    ctx = await setup({ token: TOKEN, maxEventStreams: 2 });
    taskId = (await ctx.client.submit('never-run', [3])).id;
  });
  after(async () => {
    await ctx.dashboard.close();
    await ctx.backend.close();
  });

  test('401 without the token (a wrong one, or a forged cookie), on each route', async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-123' },
      { cookie: 'yadtq_session=forged' },
    ];
    for (const headers of refused) {
      for (const [method, path] of routes()) {
        const answer = await send(`${ctx.base}${path}`, { method: method!, headers });
        assert.equal(answer.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
      }
    }
    const page = await send(`${ctx.base}/`);
    assert.match(page.body, /<form method="post" action="\/login"/, 'the page is the login form');
    assert.doesNotMatch(page.body, /app\.js/);
    assert.equal((await ctx.client.status(taskId))?.status, 'queued');
  });

  test('200 with the token as a header, on each route but the cancel (done last)', async () => {
    const given: Record<string, string>[] = [
      { authorization: `Bearer ${TOKEN}` },
      { 'x-yadtq-token': TOKEN },
    ];
    for (const headers of given) {
      for (const [method, path] of routes().slice(0, -1)) {
        const answer = await send(`${ctx.base}${path}`, { method: method!, headers });
        assert.equal(answer.status, 200, `${method} ${path}: ${answer.body.slice(0, 200)}`);
      }
    }
  });

  test('the login form gives a session cookie that opens every route, and a wrong token none', async () => {
    const wrong = await send(`${ctx.base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=nope',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const login = await send(`${ctx.base}/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: `http://127.0.0.1:${ctx.port}`,
      },
      body: `token=${encodeURIComponent(TOKEN)}`,
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/');
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token');
    const cookie = setCookie.split(';')[0]!;
    for (const [method, path] of routes()) {
      const answer = await send(`${ctx.base}${path}`, { method: method!, headers: { cookie } });
      assert.equal(answer.status, 200, `${method} ${path} with the cookie`);
    }
    assert.equal((await ctx.client.status(taskId))?.status, 'cancelled');
  });

  test('with a token, a cross-origin POST is still refused', async () => {
    const answer = await send(`${ctx.base}/api/tasks/${taskId}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' },
    });
    assert.equal(answer.status, 403);
  });

  test('live event streams are capped: 503 past the cap, served again once one closes', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const closers: Array<() => void> = [];
    for (let i = 0; i < 2; i++) {
      const open = await send(`${ctx.base}/api/events`, {
        headers: auth,
        keep: (close) => closers.push(close),
      });
      assert.equal(open.status, 200);
    }
    const third = await send(`${ctx.base}/api/events`, { headers: auth });
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '5');
    closers.pop()!();
    let again: Answer | undefined;
    for (let i = 0; i < 50 && again?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await send(`${ctx.base}/api/events`, { headers: auth });
    }
    assert.equal(again?.status, 200);
    for (const close of closers) close();
  });
});

describe("the worker's metrics server: the same lock", () => {
  const servers: MetricsServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });
  const render = async () => '# yadtq\nyadtq_up 1\n';

  test('without a token: a rebinding Host is refused, loopback and allowed hosts served', async () => {
    const server = await serveMetrics({
      host: '127.0.0.1',
      port: 0,
      render,
      allowedHosts: ['metrics.internal'],
    });
    servers.push(server);
    const port = new URL(server.url).port;
    const evil = await send(server.url, { headers: { host: `evil.example:${port}` } });
    assert.equal(evil.status, 403);
    const crossSite = await send(server.url, { headers: { origin: 'http://evil.example' } });
    assert.equal(crossSite.status, 403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'metrics.internal:9464']) {
      const answer = await send(server.url, { headers: { host } });
      assert.equal(answer.status, 200, host);
      assert.match(answer.body, /yadtq_up 1/);
    }
  });

  test('with a token: 401 without it, 200 with it', async () => {
    const server = await serveMetrics({ host: '127.0.0.1', port: 0, render, token: TOKEN });
    servers.push(server);
    assert.equal((await send(server.url)).status, 401);
    assert.equal(
      (await send(server.url, { headers: { authorization: 'Bearer nope' } })).status,
      401,
    );
    const ok = await send(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });

  test('a host other than loopback without a token is refused at start', async () => {
    await assert.rejects(serveMetrics({ host: '0.0.0.0', port: 0, render }), (error) =>
      isYadtqError(error, 'INVALID_OPTION'),
    );
  });
});
