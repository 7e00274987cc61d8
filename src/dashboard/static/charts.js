// Small SVG charts for the dashboard: no dependencies, every label set as text (never HTML).
const SVG = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes and children. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function title(text) {
  const t = s('title');
  t.textContent = text;
  return t;
}

function label(x, y, text, anchor = 'start') {
  const t = s('text', { x, y, 'text-anchor': anchor });
  t.textContent = text;
  return t;
}

/** A "nice" axis maximum at or above `value`. */
export function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** Stacked bars: `series` [{ key, color, label }], `points` [{ at, [key]: n }]. */
export function stackedBars(points, series, { width = 640, height = 200, xLabels = [] } = {}) {
  const pad = { top: 10, right: 8, bottom: 22, left: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const totals = points.map((p) => series.reduce((sum, { key }) => sum + (p[key] ?? 0), 0));
  const max = niceMax(Math.max(...totals, 0));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  for (const fraction of [0, 0.5, 1]) {
    const y = pad.top + h - fraction * h;
    svg.append(
      s('line', { x1: pad.left, x2: pad.left + w, y1: y, y2: y, class: 'grid-line' }),
      label(pad.left - 6, y + 4, formatCount(max * fraction), 'end'),
    );
  }
  const slot = w / Math.max(points.length, 1);
  const barWidth = Math.max(1, slot - 2);
  points.forEach((point, i) => {
    let y = pad.top + h;
    const x = pad.left + i * slot + 1;
    for (const { key, color, label: name } of series) {
      const value = point[key] ?? 0;
      if (value <= 0) continue;
      const barHeight = (value / max) * h;
      y -= barHeight;
      svg.append(
        s(
          'rect',
          { x, y, width: barWidth, height: Math.max(barHeight, 1), rx: 1.5, fill: color },
          title(`${new Date(point.at).toLocaleTimeString()} — ${value} ${name}`),
        ),
      );
    }
  });
  for (const { index, text } of xLabels) {
    svg.append(label(pad.left + index * slot + slot / 2, height - 6, text, 'middle'));
  }
  return svg;
}

/** A filled line over time: `points` [{ at, value }]. */
export function areaLine(points, { width = 640, height = 160, color = '#38bdf8' } = {}) {
  const pad = { top: 10, right: 8, bottom: 22, left: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(...points.map((p) => p.value), 0));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  for (const fraction of [0, 0.5, 1]) {
    const y = pad.top + h - fraction * h;
    svg.append(
      s('line', { x1: pad.left, x2: pad.left + w, y1: y, y2: y, class: 'grid-line' }),
      label(pad.left - 6, y + 4, formatCount(max * fraction), 'end'),
    );
  }
  if (points.length === 0) return svg;
  const first = points[0].at;
  const span = Math.max(points[points.length - 1].at - first, 1);
  const xy = points.map((p) => [
    pad.left + ((p.at - first) / span) * w,
    pad.top + h - (p.value / max) * h,
  ]);
  const path = xy.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`);
  const base = pad.top + h;
  const gradient = `g${Math.random().toString(36).slice(2, 8)}`;
  svg.append(
    s(
      'defs',
      {},
      s(
        'linearGradient',
        { id: gradient, x1: 0, x2: 0, y1: 0, y2: 1 },
        s('stop', { offset: '0%', 'stop-color': color, 'stop-opacity': 0.45 }),
        s('stop', { offset: '100%', 'stop-color': color, 'stop-opacity': 0.02 }),
      ),
    ),
    s('path', {
      d: `${path.join('')}L${xy[xy.length - 1][0]},${base}L${xy[0][0]},${base}Z`,
      fill: `url(#${gradient})`,
    }),
    s('path', { d: path.join(''), fill: 'none', stroke: color, 'stroke-width': 2 }),
    label(pad.left, height - 6, `${Math.round(span / 1000)} s ago`),
    label(pad.left + w, height - 6, 'now', 'end'),
  );
  return svg;
}

/** Horizontal stacked bars per row: rows [{ label, values: { key: n } }]. */
export function horizontalBars(rows, series, { width = 640 } = {}) {
  const rowHeight = 30;
  const labelWidth = 130;
  const height = Math.max(rows.length, 1) * rowHeight + 6;
  const max = Math.max(
    ...rows.map((r) => series.reduce((sum, { key }) => sum + (r.values[key] ?? 0), 0)),
    1,
  );
  const barSpace = width - labelWidth - 200;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  rows.forEach((row, i) => {
    const y = i * rowHeight + 6;
    svg.append(label(0, y + 15, row.label));
    let x = labelWidth;
    let total = 0;
    for (const { key, color, label: name } of series) {
      const value = row.values[key] ?? 0;
      total += value;
      if (value <= 0) continue;
      const barWidth = (value / max) * barSpace;
      svg.append(
        s(
          'rect',
          { x, y: y + 2, width: Math.max(barWidth, 2), height: 18, rx: 4, fill: color },
          title(`${row.label}: ${value} ${name}`),
        ),
      );
      x += barWidth;
    }
    svg.append(label(x + 8, y + 15, `${total}${row.note ? ` · ${row.note}` : ''}`));
  });
  return svg;
}

/** One row's p50–p95 range and max tick on a shared log scale up to `scaleMax` ms. */
export function rangeBar(p50, p95, max, scaleMax, { width = 220, height = 18 } = {}) {
  const scale = (ms) =>
    (Math.log10(1 + ms) / Math.log10(1 + Math.max(scaleMax, 1))) * (width - 6) + 3;
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'range' },
    s('rect', { x: 3, y: 8, width: width - 6, height: 2, rx: 1, fill: '#24304d' }),
    s('rect', {
      x: scale(p50),
      y: 4,
      width: Math.max(scale(p95) - scale(p50), 3),
      height: 10,
      rx: 4,
      fill: '#38bdf8',
      opacity: 0.8,
    }),
    s('line', {
      x1: scale(max),
      x2: scale(max),
      y1: 2,
      y2: 16,
      stroke: '#fbbf24',
      'stroke-width': 2,
    }),
    title(`p50 ${p50} ms · p95 ${p95} ms · max ${max} ms`),
  );
}

export function formatCount(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n * 10) / 10);
}
