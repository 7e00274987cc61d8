import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Dashboard } from '../../src/dashboard/server.ts';
import {
  type Backend,
  type DeadLetter,
  defineTask,
  listDeadLetters,
  type ReplayReport,
  replayDeadLetters,
  TaskClient,
  TaskWorker,
} from '../../src/index.ts';
import { until } from '../contract/contract.ts';
import { kafkaRedisBackend } from './services.ts';

const CHROMIUM = process.env.YADTQ_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'redrive-dashboard-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe('the dashboard replays dead letters: JSON API with the token, and in Chromium', () => {
  let backend: Backend;
  let worker: TaskWorker;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const runs = new Map<string, number>();
  const ids: string[] = [];
  const flaky = defineTask(
    'flaky-dash',
    async ([n]: [number], { taskId, attempt }) => {
      runs.set(taskId, (runs.get(taskId) ?? 0) + 1);
      if (attempt === 1) throw new Error(`attempt 1 of ${n} fails`);
      return n;
    },
    { maxAttempts: 1 },
  );
  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, dashboard.url), init).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
    }));
  const post = (body: unknown, headers: Record<string, string> = AUTH) =>
    api('/api/dead-letters/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    backend = await kafkaRedisBackend('redrive-dash');
    worker = new TaskWorker({ ...backend, id: 'redrive-dash-w1', tasks: [flaky], concurrency: 4 });
    await worker.start();
    const client = new TaskClient(backend);
    for (const h of await client.submitMany(flaky, [[0], [1], [2], [3]])) ids.push(h.id);
    await until(async () => (await backend.broker.deadLetters(10)).length === 4, 30_000);
    dashboard = new Dashboard({
      source: backend,
      deadLetters: {
        list: (limit) => listDeadLetters(backend, limit),
        replay: (filter, options) => replayDeadLetters(backend, filter, options),
      },
      port: 0,
      token: TOKEN,
    });
    await dashboard.listen();
    profile = mkdtempSync(join(tmpdir(), 'yadtq-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await dashboard?.close();
    await worker?.stop();
    await backend?.close();
  });

  test('the API needs the token, refuses a bad filter, and a dry run changes nothing', async () => {
    assert.equal((await api('/api/dead-letters')).status, 401);
    assert.equal((await post({ reason: 'exhausted' }, {})).status, 401);
    const listed = await api('/api/dead-letters', { headers: AUTH });
    assert.equal(listed.status, 200);
    const letters = listed.body.deadLetters as DeadLetter[];
    assert.equal(letters.length, 4);
    assert.ok(letters.every((d) => d.replayed === null && /^\d+:\d+$/.test(d.entry)));
    for (const bad of [{ reason: 'bored' }, { since: 'yesterday' }, { limit: 0 }, { nope: 1 }]) {
      const refused = await post(bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
    }
    const dry = await post({ reason: 'exhausted', dryRun: true });
    assert.equal(dry.status, 200);
    assert.equal((dry.body.report as ReplayReport).replayed, 4);
    assert.ok(ids.every((id) => runs.get(id) === 1));
  });

  test('in the browser: tick two rows, replay them, see the result; the API then refuses them', async () => {
    assert.equal((await page.goto(dashboard.url))?.status(), 401);
    await page.locator('#login-token').fill(TOKEN);
    await page.locator('#login-submit').click();
    await page.locator('#dead-letters tbody tr[data-entry]').nth(3).waitFor();
    const rows = page.locator('#dead-letters tbody tr[data-entry]');
    const picked = [
      await rows.nth(0).getAttribute('data-entry'),
      await rows.nth(2).getAttribute('data-entry'),
    ] as string[];
    for (const entry of picked) await page.locator(`input[data-entry="${entry}"]`).check();
    await page.locator('#dlq-replay-selected').click();
    await page.locator('#dlq-result li[data-outcome="replayed"]').nth(1).waitFor();
    assert.equal(await page.locator('#dlq-result li').count(), 2);
    await page.locator('#dead-letters tbody tr[data-replayed="yes"]').nth(1).waitFor();
    assert.equal(await page.locator('#dead-letters tbody tr[data-replayed="yes"]').count(), 2);
    for (const entry of picked) {
      const row = page.locator(`#dead-letters tbody tr[data-entry="${entry}"]`);
      assert.equal(await row.getAttribute('data-replayed'), 'yes');
      assert.match((await row.locator('td.replayed').textContent()) ?? '', /attempt 2/);
    }

    const letters = await listDeadLetters(backend, 10);
    const chosen = letters.filter((d) => picked.includes(d.entry)).map((d) => d.replayed!.taskId);
    assert.equal(chosen.length, 2);
    await until(async () => {
      const records = await Promise.all(chosen.map((id) => backend.store.get(id)));
      return records.every((r) => r?.status === 'success');
    }, 20_000);
    for (const id of ids) assert.equal(runs.get(id), chosen.includes(id) ? 2 : 1, id);

    const again = await post({ reason: 'exhausted' });
    const report = again.body.report as ReplayReport;
    assert.equal(report.replayed, 2);
    const refused = report.results.filter((r) => r.outcome === 'refused');
    assert.deepEqual(refused.map((r) => r.entry).sort(), [...picked].sort());
    assert.ok(refused.every((r) => r.refused === 'already-replayed'));
  });
});
