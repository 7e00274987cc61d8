import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Dashboard, type TaskActions } from '../../src/dashboard/server.ts';
import { demoTasks } from '../../src/demo.ts';
import {
  type Backend,
  defineTask,
  TaskClient,
  type TaskRecord,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { parsePrometheus, seriesValue } from '../prometheus-text.ts';
import { kafkaRedisBackend } from './services.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = join(ROOT, '.artifacts', 'dashboard.png');
const CHROMIUM = process.env.YADTQ_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A task that fails while the card is declined, and succeeds once it is not. */
let declined = true;
const charge = defineTask('charge', async ([cents]: [number]) => {
  await new Promise((r) => setTimeout(r, 15));
  if (declined) throw new Error(`card declined for ${cents} cents`);
  return { charged: cents };
});

describe('the dashboard in headless Chromium, two workers on Kafka + Redis', () => {
  let backend: Backend;
  let workers: TaskWorker[];
  let client: TaskClient;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let navigations = 0;
  let failedId = '';

  before(async () => {
    backend = await kafkaRedisBackend('dashboard');
    workers = ['dash-w1', 'dash-w2'].map(
      (id) =>
        new TaskWorker({
          id,
          broker: backend.broker,
          store: backend.store,
          registry: backend.registry,
          monitorStore: backend.monitorStore,
          stats: backend.stats,
          tasks: [...demoTasks, charge],
          concurrency: 4,
        }),
    );
    await Promise.all(workers.map((w) => w.start()));
    client = new TaskClient({ broker: backend.broker, store: backend.store });
    const candidate = client as unknown as Partial<TaskActions>;
    dashboard = new Dashboard({
      source: backend,
      ...(typeof candidate.retry === 'function' && typeof candidate.cancel === 'function'
        ? { actions: candidate as TaskActions }
        : {}),
      port: 0,
      token: TOKEN,
    });
    await dashboard.listen();
    profile = mkdtempSync(join(tmpdir(), 'yadtq-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await dashboard?.close();
    await Promise.all((workers ?? []).map((w) => w.stop()));
    await backend?.close();
  });

  test('with a token, every route answers 401 in the browser until it logs in, then 200', async () => {
    const routes = [
      '/',
      '/app.js',
      '/api/config',
      '/api/overview',
      '/api/tasks',
      '/api/tasks/nope',
      '/metrics',
    ];
    const first = await page.goto(dashboard.url);
    assert.equal(first?.status(), 401);
    await page.locator('#login-form').waitFor();
    for (const path of routes) {
      const answer = await context.request.get(new URL(path, dashboard.url).href);
      assert.equal(answer.status(), 401, `${path} before the login`);
    }
    await page.locator('#login-token').fill('not-the-token');
    await Promise.all([page.waitForNavigation(), page.locator('#login-submit').click()]);
    await page.locator('#login-error').waitFor();
    assert.equal((await context.cookies()).length, 0, 'a wrong token gets no cookie');
    await page.locator('#login-token').fill(TOKEN);
    const loggedIn = page.waitForResponse((r) => new URL(r.url()).pathname === '/' && r.ok());
    await page.locator('#login-submit').click();
    assert.equal((await loggedIn).status(), 200);
    for (const path of routes) {
      const answer = await context.request.get(new URL(path, dashboard.url).href);
      assert.equal(answer.status(), path === '/api/tasks/nope' ? 404 : 200, `${path} after`);
    }
    const events = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const source = new EventSource('/api/events');
          source.addEventListener('overview', () => {
            source.close();
            resolve('overview');
          });
          source.onerror = () => resolve('error');
        }),
    );
    assert.equal(events, 'overview', 'the event stream opens with the session cookie');
    await page.locator('#logout-form:not([hidden])').waitFor();
  });

  test('shows both workers alive, and a failure with its error without a reload', async () => {
    navigations = 0;
    await page.goto(dashboard.url);
    for (const id of ['dash-w1', 'dash-w2']) {
      await page
        .locator(`#workers tr[data-worker="${id}"][data-alive="true"]`)
        .waitFor({ timeout: 60_000 });
    }
    await until(async () => {
      const response = await fetch(new URL('/api/overview', dashboard.url), { headers: AUTH });
      const overview = (await response.json()) as {
        workers: { id: string; partitions: number[] }[];
      };
      return overview.workers.filter((w) => w.partitions.length > 0).length === 2;
    }, 60_000);

    const metricsUrl = new URL('/metrics', dashboard.url);
    const scrape = async () =>
      parsePrometheus(await (await fetch(metricsUrl, { headers: AUTH })).text());
    const before = await scrape();
    assert.equal(seriesValue(before, 'yadtq_worker_up', { worker: 'dash-w1' }), 1);
    const handles = await client.submitMany(
      'add',
      Array.from({ length: 24 }, (_, i) => [i, i, 20 + (i % 5) * 15]),
    );
    const muls = await client.submitMany('mul', [
      [2, 3, 40],
      [4, 5, 90],
      [6, 7, 160],
    ]);
    const failing = await client.submit(charge, [1299]);
    failedId = failing.id;
    const failed = await client.wait(failing, { timeoutMs: 30_000 });
    assert.equal(failed.status, 'failed');
    await Promise.all([...handles, ...muls].map((h) => client.wait(h, { timeoutMs: 30_000 })));

    await until(async () => {
      const after = await scrape();
      return seriesValue(after, 'yadtq_tasks_total', { name: 'add', status: 'success' }) === 24;
    }, 10_000);
    const after = await scrape();
    assert.equal(seriesValue(after, 'yadtq_tasks_total', { name: 'charge', status: 'failed' }), 1);
    assert.equal(seriesValue(after, 'yadtq_task_duration_seconds_count', { name: 'mul' }), 3);
    assert.equal(
      seriesValue(before, 'yadtq_tasks_total', { name: 'add', status: 'success' }),
      undefined,
    );

    const item = page.locator(`#failures li[data-task-id="${failedId}"]`);
    await item.locator('.error').waitFor({ timeout: 15_000 });
    assert.match(
      (await item.locator('.error').textContent()) ?? '',
      /card declined for 1299 cents/,
    );
    assert.equal(navigations, 1, 'the page was never reloaded');

    const spread = await page.locator('#spread-chart svg rect').count();
    assert.ok(spread >= 2, `tasks-per-worker bars: ${spread}`);
    await page.locator('#names tr[data-name="add"]').waitFor();
    await page
      .locator('[data-status="success"] .value')
      .filter({ hasText: /^2[5-9]|^[3-9]\d/ })
      .waitFor({ timeout: 10_000 });

    // Let the throughput and lag charts show a few live points before the picture.
    await page.waitForTimeout(2500);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 20_000, 'the screenshot has content');
  });

  test('shows the tasks parked behind a running lane task, in the card and /metrics; a parked one cancels at once', async () => {
    const lane = `tenant-${Date.now().toString(36)}`;
    const group = `lane:${lane}`;
    // The lane's first task runs 2.5 s; the three behind it park as they are claimed.
    const first = await client.submit('add', [1, 1, 2500], { orderingKey: lane, dedup: false });
    const rest = [];
    for (let i = 0; i < 3; i++)
      rest.push(await client.submit('add', [i, 1, 10], { orderingKey: lane, dedup: false }));
    const row = page.locator(`#parked tr[data-group="${group}"]`);
    await row.locator('td.num', { hasText: /^3$/ }).waitFor({ timeout: 15_000 });
    assert.match((await page.locator('#parked-summary').textContent()) ?? '', /^3 waiting/);
    const metrics = parsePrometheus(
      await (await fetch(new URL('/metrics', dashboard.url), { headers: AUTH })).text(),
    );
    assert.equal(seriesValue(metrics, 'yadtq_tasks_parked_by_group', { group }), 3);
    assert.equal(seriesValue(metrics, 'yadtq_tasks_parked', {}), 3);

    const cancelled = await client.cancel(rest[2]!.id);
    assert.equal(cancelled.status, 'cancelled', 'a parked task ends at once');
    await row.locator('td.num', { hasText: /^2$/ }).waitFor({ timeout: 10_000 });
    const ended = await Promise.all(
      [first, rest[0]!, rest[1]!].map((h) => client.wait(h, { timeoutMs: 30_000 })),
    );
    assert.deepEqual(
      ended.map((r) => r.status),
      ['success', 'success', 'success'],
    );
    assert.ok(ended[1]!.startedAt! >= ended[0]!.finishedAt!, 'one at a time, in order');
    assert.ok(ended[2]!.startedAt! >= ended[1]!.finishedAt!, 'one at a time, in order');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
  });

  test('without the token, retry and cancel are refused; a cross-site POST with it too', async () => {
    assert.ok(failedId, 'the previous test left a failed task');
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-123' },
      { 'x-yadtq-token': 'nope' },
    ]) {
      const response = await fetch(new URL(`/api/tasks/${failedId}/cancel`, dashboard.url), {
        method: 'POST',
        headers,
      });
      assert.equal(response.status, 401);
    }
    const crossSite = await fetch(new URL(`/api/tasks/${failedId}/retry`, dashboard.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' },
    });
    assert.equal(crossSite.status, 403);
    const record = (await client.status(failedId)) as TaskRecord;
    assert.equal(record.status, 'failed', 'nothing ran again');
    assert.equal(record.attempt, 1);
  });

  test('logged in, retry makes the failed task run again, and cancel stops a running one', async () => {
    assert.ok(failedId, 'the first test left a failed task');
    declined = false;

    const item = page.locator(`#failures li[data-task-id="${failedId}"]`);
    const answered = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${failedId}/retry`));
    await item.locator('button[data-action="retry"]').click();
    const response = await answered;
    assert.equal(response.status(), 200, await response.text());
    const body = (await response.json()) as { id: string; status: string };
    await page.locator('#toasts .toast', { hasText: 'Retried' }).first().waitFor();
    const rerun = await client.wait(body.id, { timeoutMs: 30_000 });
    assert.equal(rerun.status, 'success');
    assert.deepEqual(rerun.result, { charged: 1299 });
    await page
      .locator(`#lookup-result dl[data-task-id="${body.id}"][data-status="success"]`)
      .waitFor({
        timeout: 10_000,
      });

    const slow = await client.submit('add', [1, 2, 20_000]);
    await until(async () => (await client.status(slow.id))?.status === 'processing', 15_000);
    await page.locator('#lookup-id').fill(slow.id);
    await page.locator('#lookup-form button[type="submit"]').click();
    const cancelButton = page.locator(
      `#lookup-result button[data-action="cancel"][data-task-id="${slow.id}"]`,
    );
    const cancelled = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${slow.id}/cancel`));
    await cancelButton.click();
    const cancelResponse = await cancelled;
    assert.equal(cancelResponse.status(), 200, await cancelResponse.text());
    assert.equal(((await cancelResponse.json()) as { cancelled: boolean }).cancelled, true);
    const stopped = await client.wait(slow, { timeoutMs: 30_000 });
    assert.equal(stopped.status, 'cancelled');
  });

  test('log out ends the session: the page is the login form again', async () => {
    await Promise.all([page.waitForNavigation(), page.locator('#logout-button').click()]);
    await page.locator('#login-form').waitFor();
    const again = await page.goto(dashboard.url);
    assert.equal(again?.status(), 401);
  });
});
