// The dead-letter card: the newest dead letters with their replays, and the replay action
// (by the filter, or the rows ticked). Read on demand, not every second: reading the
// dead-letter topic is a scan of it. Every piece of data is set as text.

/** Starts the card; `h`, `toast` and `loggedOut` are the page's. */
export function initDeadLetters({ h, toast, loggedOut }) {
  const $ = (selector) => document.querySelector(selector);
  const card = $('#dead-letters-card');
  const selected = new Set();
  card.hidden = false;

  function replayedText(mark) {
    if (!mark) return '–';
    const attempt = mark.attempt === null ? '' : ` · attempt ${mark.attempt}`;
    return `${new Date(mark.at).toLocaleString()}${attempt}`;
  }

  function updateSelected() {
    $('#dlq-replay-selected').disabled = selected.size === 0;
    $('#dlq-replay-selected').textContent =
      selected.size === 0 ? 'Replay selected' : `Replay selected (${selected.size})`;
  }

  async function refresh() {
    const response = await fetch('/api/dead-letters?limit=200').catch(() => null);
    if (response?.status === 401) return loggedOut();
    if (!response?.ok) {
      $('#dlq-summary').textContent = 'could not read the dead-letter topic';
      return;
    }
    const { deadLetters } = await response.json();
    const replayed = deadLetters.filter((d) => d.replayed).length;
    $('#dlq-summary').textContent = `${deadLetters.length} newest · ${replayed} replayed`;
    for (const entry of [...selected])
      if (!deadLetters.some((d) => d.entry === entry)) selected.delete(entry);
    updateSelected();
    const body = $('#dead-letters tbody');
    if (deadLetters.length === 0) {
      body.replaceChildren(
        h('tr', {}, h('td', { class: 'empty', colSpan: 7 }, 'No dead letters.')),
      );
      return;
    }
    body.replaceChildren(
      ...[...deadLetters].reverse().map((d) => {
        const headers = d.headers ?? {};
        const box = h('input', {
          type: 'checkbox',
          'data-entry': d.entry,
          checked: selected.has(d.entry),
          title: `select ${d.entry}`,
        });
        box.addEventListener('change', () => {
          if (box.checked) selected.add(d.entry);
          else selected.delete(d.entry);
          updateSelected();
        });
        return h(
          'tr',
          { 'data-entry': d.entry, 'data-replayed': d.replayed ? 'yes' : 'no' },
          h('td', {}, box),
          h('td', { class: 'mono' }, d.entry),
          h('td', {}, d.timestamp ? new Date(d.timestamp).toLocaleString() : '–'),
          h('td', { class: 'mono' }, headers['yadtq-task-id'] ?? d.key),
          h('td', {}, headers['yadtq-dead-letter-reason'] ?? '–'),
          h('td', { class: 'error' }, (headers['yadtq-error'] ?? '').slice(0, 120)),
          h('td', { class: 'replayed' }, replayedText(d.replayed)),
        );
      }),
    );
  }

  function filterOf() {
    const filter = {};
    const reason = $('#dlq-reason').value;
    const task = $('#dlq-task').value.trim();
    const since = $('#dlq-since').value.trim();
    const limit = $('#dlq-limit').value.trim();
    if (reason) filter.reason = reason;
    if (task) filter.task = task;
    if (since) filter.since = since;
    if (limit) filter.limit = Number(limit);
    return filter;
  }

  function showReport(report) {
    const done = report.dryRun ? 'would replay' : 'replayed';
    $('#dlq-result').replaceChildren(
      h(
        'p',
        { 'data-report': report.dryRun ? 'dry-run' : 'replay' },
        `${done} ${report.replayed}, refused ${report.refused} (of ${report.matched} matching)`,
      ),
      h(
        'ol',
        {},
        ...report.results.map((r) =>
          h(
            'li',
            {
              'data-entry': r.entry,
              'data-outcome': r.outcome,
              class: r.outcome === 'refused' ? 'refused' : undefined,
            },
            `${r.entry} ${r.name ?? '?'} ${r.taskId ?? ''}: `,
            r.outcome === 'refused'
              ? `refused (${r.refused}): ${r.detail}`
              : `${r.outcome} from its ${r.from}${r.attempt ? ` as attempt ${r.attempt}` : ''}`,
          ),
        ),
      ),
    );
  }

  async function replay(filter, dryRun) {
    let response;
    try {
      response = await fetch('/api/dead-letters/replay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...filter, dryRun }),
      });
    } catch (error) {
      toast(`replay failed: ${error.message}`, 'failed');
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) {
      toast(
        `Refused: replay needs the dashboard token (${body.error ?? 'unauthorized'})`,
        'failed',
      );
      loggedOut();
      return;
    }
    if (!response.ok) {
      toast(`replay failed: ${body.error ?? response.statusText}`, 'failed');
      return;
    }
    showReport(body.report);
    if (!dryRun) {
      toast(`Replayed ${body.report.replayed}, refused ${body.report.refused}`);
      selected.clear();
      await refresh();
    }
  }

  $('#dlq-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    void replay(filterOf(), false);
  });
  $('#dlq-preview').addEventListener('click', () => void replay(filterOf(), true));
  $('#dlq-replay-selected').addEventListener('click', () => {
    if (selected.size > 0) void replay({ entries: [...selected] }, false);
  });
  $('#dlq-refresh').addEventListener('click', () => void refresh());
  void refresh();
}
