// The yadtq dashboard page: one EventSource for live overviews, the JSON API for lookups
// and actions. Every piece of data is set as text, never parsed as HTML.
import { areaLine, formatCount, horizontalBars, rangeBar, stackedBars } from './charts.js';
import { initDeadLetters } from './dead-letters.js';

const COLORS = {
  queued: '#818cf8',
  processing: '#38bdf8',
  success: '#34d399',
  failed: '#f87171',
  retrying: '#fbbf24',
  cancelled: '#a1a1aa',
};
const STATUS_HINTS = {
  queued: 'waiting in Kafka',
  processing: 'running now',
  success: 'finished ok',
  failed: 'gave up',
  retrying: 'attempts retried',
  cancelled: 'stopped by request',
};
const LAG_HISTORY = 300;

const state = { lagHistory: [], rendered: new Map(), lookupId: null };
const $ = (selector) => document.querySelector(selector);

/** Creates an element: h('td', { class: 'num' }, 'text', child…). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (
      key.startsWith('data-') ||
      key === 'class' ||
      key === 'type' ||
      key === 'title' ||
      key === 'style'
    ) {
      node.setAttribute(key, String(value));
    } else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Replaces a container's content only when its data changed (keeps buttons steady). */
function renderOnce(key, data, container, build) {
  const json = JSON.stringify(data);
  if (state.rendered.get(key) === json) return;
  state.rendered.set(key, json);
  container.replaceChildren(...[build()].flat());
}

function ago(ms) {
  if (ms < 1000) return 'just now';
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${(ms / 3_600_000).toFixed(1)} h ago`;
}

function duration(ms) {
  if (ms >= 172_800_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 7_200_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 2)} s`;
  return `${Math.round(ms)} ms`;
}

function badge(status) {
  return h('span', { class: 'badge', style: `--c: ${COLORS[status] ?? '#e6ebf5'}` }, status);
}

function renderKpis(overview) {
  renderOnce('kpis', overview.status, $('#kpis'), () =>
    Object.entries(overview.status).map(([status, value]) =>
      h(
        'div',
        { class: 'kpi', 'data-status': status, style: `--c: ${COLORS[status]}` },
        h('div', { class: 'label' }, status),
        h('div', { class: 'value' }, formatCount(value)),
        h('div', { class: 'hint' }, STATUS_HINTS[status]),
      ),
    ),
  );
}

function renderThroughput(overview) {
  const points = overview.stats.throughput;
  const series = ['success', 'failed', 'retrying', 'cancelled'].map((key) => ({
    key,
    color: COLORS[key],
    label: key,
  }));
  const n = points.length;
  const xLabels = [
    { index: 0, text: '−15 min' },
    { index: Math.round(n / 3), text: '−10 min' },
    { index: Math.round((2 * n) / 3), text: '−5 min' },
    { index: n - 1, text: 'now' },
  ];
  renderOnce('throughput', points, $('#throughput-chart'), () =>
    stackedBars(points, series, { xLabels }),
  );
  const sums = Object.fromEntries(
    series.map(({ key }) => [key, points.reduce((sum, p) => sum + p[key], 0)]),
  );
  const perSecond = points.slice(-6).reduce((sum, p) => sum + p.success + p.failed, 0) / 60;
  renderOnce('throughput-legend', { sums, perSecond }, $('#throughput-legend'), () => [
    ...series.map(({ key, color }) =>
      h('span', {}, h('i', { style: `background:${color}` }), `${key} ${formatCount(sums[key])}`),
    ),
    h('span', {}, `· ${perSecond.toFixed(1)}/s over the last minute`),
  ]);
}

function renderLag(overview) {
  const lag = overview.lag;
  if (lag) state.lagHistory.push({ at: overview.at, value: lag.total });
  if (state.lagHistory.length > LAG_HISTORY) state.lagHistory.shift();
  $('#lag-total').textContent = lag
    ? `${formatCount(lag.total)} behind · ${lag.topic}`
    : `unavailable: ${overview.lagError ?? 'unknown'}`;
  $('#lag-chart').replaceChildren(areaLine(state.lagHistory, { color: COLORS.queued }));
  renderOnce('partitions', lag?.partitions ?? [], $('#partitions'), () =>
    (lag?.partitions ?? []).map((p) =>
      h(
        'div',
        { class: 'partition', 'data-partition': p.partition },
        h('div', { class: 'muted' }, `partition ${p.partition}`),
        h('b', {}, formatCount(p.lag)),
        ' behind',
        h('div', { class: 'owner' }, p.owner ?? 'unowned'),
        h('div', { class: 'muted' }, `end ${p.endOffset} · committed ${p.committedOffset ?? '–'}`),
        p.oldestAgeMs == null
          ? null
          : h(
              'div',
              {
                class: p.nearRetention ? 'oldest near-retention' : 'oldest muted',
                'data-near-retention': String(p.nearRetention === true),
                title:
                  lag.retentionMs == null ? '' : `topic retention ${duration(lag.retentionMs)}`,
              },
              `oldest waiting ${duration(p.oldestAgeMs)}${p.nearRetention ? ' · near retention!' : ''}`,
            ),
      ),
    ),
  );
}

function renderWorkers(overview) {
  const alive = overview.workers.filter((w) => w.alive).length;
  $('#workers-summary').textContent = `${alive} alive · ${overview.workers.length - alive} gone`;
  const body = $('#workers tbody');
  if (overview.workers.length === 0) {
    body.replaceChildren(
      h(
        'tr',
        {},
        h('td', { colSpan: 8, class: 'empty' }, 'No workers yet: start one with yadtq worker <id>'),
      ),
    );
    return;
  }
  body.replaceChildren(
    ...overview.workers.map((w) =>
      h(
        'tr',
        { 'data-worker': w.id, 'data-alive': String(w.alive) },
        h('td', { class: 'mono' }, w.id),
        h('td', {}, badge(w.alive ? 'alive' : 'dead')),
        h('td', {}, ago(w.heartbeatAgeMs)),
        h(
          'td',
          { class: 'num', 'data-zombies': String(w.alive ? (w.zombies ?? 0) : 0) },
          `${w.alive ? w.inFlight : 0} / ${w.concurrency}`,
          w.alive && w.zombies > 0 ? ` + ${w.zombies} zombie${w.zombies === 1 ? '' : 's'}` : '',
        ),
        h('td', { class: 'num' }, formatCount(w.processed)),
        h('td', { class: 'num' }, formatCount(w.failed)),
        h('td', { class: 'num' }, duration(w.busyMs)),
        h('td', { class: 'mono' }, w.partitions.join(', ') || '–'),
      ),
    ),
  );
  for (const row of body.querySelectorAll('tr[data-alive="false"] .badge')) {
    row.style.setProperty('--c', COLORS.failed);
  }
  for (const row of body.querySelectorAll('tr[data-alive="true"] .badge')) {
    row.style.setProperty('--c', COLORS.success);
  }
}

function renderSpread(overview) {
  const rows = overview.stats.workers.map((w) => ({
    label: w.workerId,
    values: { success: w.processed, failed: w.failed },
    note: duration(w.busyMs),
  }));
  const total = rows.reduce((sum, r) => sum + r.values.success + r.values.failed, 0);
  for (const row of rows) {
    const share = total ? ((row.values.success + row.values.failed) / total) * 100 : 0;
    row.note = `${share.toFixed(0)}% · busy ${row.note}`;
  }
  renderOnce('spread', rows, $('#spread-chart'), () =>
    rows.length === 0
      ? h('div', { class: 'empty' }, 'No tasks finished yet')
      : horizontalBars(rows, [
          { key: 'success', color: COLORS.success, label: 'succeeded' },
          { key: 'failed', color: COLORS.failed, label: 'failed' },
        ]),
  );
}

function renderNames(overview) {
  const names = overview.stats.names;
  const scaleMax = Math.max(...names.map((n) => n.durations.max), 1);
  renderOnce('names', names, $('#names tbody'), () =>
    names.length === 0
      ? h('tr', {}, h('td', { colSpan: 8, class: 'empty' }, 'No task outcomes recorded yet'))
      : names.map((n) =>
          h(
            'tr',
            { 'data-name': n.name },
            h('td', { class: 'mono' }, n.name),
            h('td', { class: 'num' }, formatCount(n.counts.success)),
            h('td', { class: 'num' }, formatCount(n.counts.failed)),
            h('td', { class: 'num' }, formatCount(n.counts.cached)),
            h('td', { class: 'num' }, duration(n.durations.p50)),
            h('td', { class: 'num' }, duration(n.durations.p95)),
            h('td', { class: 'num' }, duration(n.durations.max)),
            h('td', {}, rangeBar(n.durations.p50, n.durations.p95, n.durations.max, scaleMax)),
          ),
        ),
  );
}

function renderParked(overview) {
  const parked = overview.parked;
  $('#parked-summary').textContent =
    parked === null
      ? 'unavailable'
      : `${formatCount(parked.total)} waiting for their turn in ${formatCount(parked.groupCount)} group(s)`;
  const groups = parked?.groups ?? [];
  renderOnce('parked', groups, $('#parked tbody'), () =>
    groups.length === 0
      ? h('tr', {}, h('td', { colSpan: 2, class: 'empty' }, 'No parked tasks'))
      : groups.map((g) =>
          h(
            'tr',
            { 'data-group': g.group },
            h('td', { class: 'mono' }, g.group),
            h('td', { class: 'num' }, formatCount(g.tasks)),
          ),
        ),
  );
}

function actionButtons(id, { retry = true, cancel = false } = {}) {
  return h(
    'div',
    { class: 'row-actions' },
    retry
      ? h(
          'button',
          { type: 'button', class: 'small', 'data-action': 'retry', 'data-task-id': id },
          'Retry',
        )
      : null,
    cancel
      ? h(
          'button',
          { type: 'button', class: 'small danger', 'data-action': 'cancel', 'data-task-id': id },
          'Cancel',
        )
      : null,
    h(
      'button',
      { type: 'button', class: 'small ghost', 'data-action': 'inspect', 'data-task-id': id },
      'Details',
    ),
  );
}

function renderFailures(overview) {
  const failures = overview.stats.failures;
  $('#failures-count').textContent =
    `${failures.length} shown · ${formatCount(overview.status.failed)} in all`;
  const now = overview.at;
  renderOnce('failures', { failures, minute: Math.floor(now / 10_000) }, $('#failures'), () =>
    failures.length === 0
      ? h('li', { class: 'empty' }, 'No failures. ✨')
      : failures.map((f) =>
          h(
            'li',
            { class: 'failure', 'data-task-id': f.id },
            h(
              'div',
              { class: 'meta' },
              h('span', { class: 'name mono' }, f.name),
              h('span', { class: 'mono' }, f.id),
              h('span', {}, `on ${f.workerId}`),
              h('span', {}, ago(now - f.finishedAt)),
            ),
            h('div', { class: 'error' }, f.error ?? 'unknown error'),
            actionButtons(f.id),
          ),
        ),
  );
}

function render(overview) {
  const lag = overview.lag;
  $('#subtitle').textContent = lag
    ? `topic ${lag.topic} · group ${lag.group} · ${lag.partitions.length} partitions`
    : 'task queue on Kafka + Redis';
  renderKpis(overview);
  renderThroughput(overview);
  renderLag(overview);
  renderWorkers(overview);
  renderSpread(overview);
  renderNames(overview);
  renderFailures(overview);
  renderParked(overview);
  if (state.lookupId) void lookup(state.lookupId, { quiet: true });
}

function setLive(status, text) {
  $('#live').dataset.state = status;
  $('#live-text').textContent = text;
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('overview', (event) => {
    const overview = JSON.parse(event.data);
    setLive('live', `live · read in ${overview.readMs} ms`);
    render(overview);
  });
  events.addEventListener('failure', (event) => {
    setLive('down', `data source error: ${JSON.parse(event.data).error}`);
  });
  events.onerror = () => setLive('down', 'reconnecting…');
}

function toast(text, status = 'success') {
  const node = h(
    'div',
    { class: 'toast', role: 'status', style: `--c: ${COLORS[status] ?? COLORS.processing}` },
    text,
  );
  $('#toasts').append(node);
  setTimeout(() => node.remove(), 6000);
}

// With a token the page is only served to a browser holding the session cookie (set by
// the login form, sent by the browser with every request here); a 401 means it ended.
function loggedOut() {
  location.assign('/login');
}

async function act(kind, id) {
  let response;
  try {
    response = await fetch(`/api/tasks/${encodeURIComponent(id)}/${kind}`, { method: 'POST' });
  } catch (error) {
    toast(`${kind} failed: ${error.message}`, 'failed');
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    toast(`Refused: ${kind} needs the dashboard token (${body.error ?? 'unauthorized'})`, 'failed');
    loggedOut();
    return;
  }
  if (!response.ok) {
    toast(`${kind} of ${id} failed: ${body.error ?? response.statusText}`, 'failed');
    return;
  }
  if (kind === 'retry') toast(`Retried ${id} → ${body.id} (${body.status})`);
  else
    toast(
      body.cancelled ? `Cancelled ${id}` : `Not cancelled: the task is ${body.status}`,
      body.cancelled ? 'success' : 'retrying',
    );
  void lookup(kind === 'retry' ? body.id : id, { quiet: true });
}

function field(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

async function lookup(id, { quiet = false } = {}) {
  state.lookupId = id;
  const out = $('#lookup-result');
  let response;
  try {
    response = await fetch(`/api/tasks/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!quiet) out.replaceChildren(h('p', { class: 'muted' }, `lookup failed: ${error.message}`));
    return;
  }
  if (response.status === 401) return loggedOut();
  if (response.status === 404) {
    out.replaceChildren(
      h(
        'p',
        { class: 'muted', 'data-lookup': 'missing' },
        `No task ${id} (unknown, or its record expired).`,
      ),
    );
    return;
  }
  const { task } = await response.json();
  const view = JSON.stringify(task);
  if (state.rendered.get('lookup') === view) return;
  state.rendered.set('lookup', view);
  const running = ['queued', 'processing', 'retrying'].includes(task.status);
  const done = ['failed', 'cancelled'].includes(task.status);
  out.replaceChildren(
    h(
      'dl',
      { class: 'record', 'data-task-id': task.id, 'data-status': task.status },
      ...field('id', h('span', { class: 'mono' }, task.id)),
      ...field('task', h('span', { class: 'mono' }, `${task.name}(${JSON.stringify(task.args)})`)),
      ...field('status', badge(task.status)),
      ...field('attempt', `${task.attempt} of ${task.maxAttempts}`),
      ...field('worker', task.worker ?? '–'),
      ...field('submitted', new Date(task.submittedAt).toLocaleString()),
      ...field(
        'run time',
        task.durationMs === null ? '–' : task.cached ? 'cached' : duration(task.durationMs),
      ),
      ...(task.status === 'success'
        ? field('result', h('pre', {}, JSON.stringify(task.result, null, 2)))
        : []),
      ...(task.error
        ? field(
            'error',
            h('pre', { class: 'error' }, `${task.error.name ?? 'Error'}: ${task.error.message}`),
          )
        : []),
      ...field('actions', actionButtons(task.id, { retry: done, cancel: running })),
    ),
  );
}

document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const { action, taskId } = button.dataset;
  if (action === 'inspect') {
    $('#lookup-id').value = taskId;
    void lookup(taskId);
    $('#lookup-result').scrollIntoView({ behavior: 'smooth', block: 'center' });
    return;
  }
  button.disabled = true;
  void act(action, taskId).finally(() => {
    button.disabled = false;
  });
});

$('#lookup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('#lookup-id').value.trim();
  state.rendered.delete('lookup');
  if (id) void lookup(id);
});

async function showLogout() {
  const response = await fetch('/api/config').catch(() => null);
  if (response?.status === 401) return loggedOut();
  const config = response?.ok ? await response.json() : {};
  $('#logout-form').hidden = !config.tokenRequired;
  if (config.deadLetters) initDeadLetters({ h, toast, loggedOut });
}

void showLogout();
connect();
