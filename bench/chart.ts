// Grouped bar charts as hand-written SVG: no dependency, small files that diff well.

export interface Bar {
  series: string;
  value: number;
  /** Whisker (e.g. min and max of the runs). */
  low?: number;
  high?: number;
}

export interface Panel {
  title: string;
  unit: string;
  groups: Array<{ label: string; bars: Bar[] }>;
}

const COLORS: Record<string, string> = {
  yadtq: '#2b6cb0',
  bullmq: '#c05621',
  'bee-queue': '#2f855a',
};
const FALLBACK = ['#6b46c1', '#b83280', '#718096'];
const PANEL_W = 440;
const PANEL_H = 300;
const PAD = { left: 64, right: 16, top: 48, bottom: 44 };

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function format(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 100) / 10}k`;
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return String(Number(value.toPrecision(2)));
}

function panel(p: Panel, x0: number, series: string[]): string {
  const width = PANEL_W - PAD.left - PAD.right;
  const height = PANEL_H - PAD.top - PAD.bottom;
  const top = niceMax(Math.max(...p.groups.flatMap((g) => g.bars.map((b) => b.high ?? b.value))));
  const y = (v: number): number => PAD.top + height - (v / top) * height;
  const out: string[] = [
    `<text x="${x0 + PANEL_W / 2}" y="20" text-anchor="middle" font-weight="bold">${xml(p.title)}</text>`,
    `<text x="${x0 + 14}" y="${PAD.top + height / 2}" transform="rotate(-90 ${x0 + 14} ${PAD.top + height / 2})" text-anchor="middle" fill="#555">${xml(p.unit)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    out.push(
      `<line x1="${x0 + PAD.left}" x2="${x0 + PAD.left + width}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${x0 + PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${format(v)}</text>`,
    );
  }
  const groupW = width / Math.max(1, p.groups.length);
  const barW = Math.min(48, (groupW * 0.8) / Math.max(1, series.length));
  p.groups.forEach((group, g) => {
    const gx = x0 + PAD.left + g * groupW + (groupW - barW * series.length) / 2;
    out.push(
      `<text x="${x0 + PAD.left + g * groupW + groupW / 2}" y="${PAD.top + height + 18}" text-anchor="middle">${xml(group.label)}</text>`,
    );
    series.forEach((name, s) => {
      const bar = group.bars.find((b) => b.series === name);
      if (bar === undefined || !Number.isFinite(bar.value)) return;
      const bx = gx + s * barW;
      const color = COLORS[name] ?? FALLBACK[s % FALLBACK.length];
      out.push(
        `<rect x="${bx + 2}" y="${y(bar.value)}" width="${barW - 4}" height="${y(0) - y(bar.value)}" fill="${color}"><title>${xml(name)}: ${bar.value}</title></rect>`,
      );
      if (bar.low !== undefined && bar.high !== undefined) {
        const cx = bx + barW / 2;
        out.push(
          `<line x1="${cx}" x2="${cx}" y1="${y(bar.high)}" y2="${y(bar.low)}" stroke="#222"/>`,
          `<line x1="${cx - 5}" x2="${cx + 5}" y1="${y(bar.high)}" y2="${y(bar.high)}" stroke="#222"/>`,
          `<line x1="${cx - 5}" x2="${cx + 5}" y1="${y(bar.low)}" y2="${y(bar.low)}" stroke="#222"/>`,
        );
      }
      out.push(
        `<text x="${bx + barW / 2}" y="${y(bar.high ?? bar.value) - 5}" text-anchor="middle" font-size="11">${format(bar.value)}</text>`,
      );
    });
  });
  return out.join('\n');
}

/** One SVG with the panels side by side and a legend of the series. */
export function barChart(title: string, panels: Panel[], note = ''): string {
  const series = [
    ...new Set(panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.series)))),
  ];
  const width = PANEL_W * panels.length;
  const height = PANEL_H + 56;
  const legend = series
    .map((name, s) => {
      const x = 16 + s * 130;
      const color = COLORS[name] ?? FALLBACK[s % FALLBACK.length];
      return `<rect x="${x}" y="${PANEL_H + 14}" width="12" height="12" fill="${color}"/><text x="${x + 18}" y="${PANEL_H + 24}">${xml(name)}</text>`;
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${xml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels.map((p, i) => `<g>\n${panel(p, i * PANEL_W, series)}\n</g>`),
    legend,
    note === ''
      ? ''
      : `<text x="${width - 12}" y="${PANEL_H + 44}" text-anchor="end" fill="#777" font-size="11">${xml(note)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** One line of a {@link lineChart}: points as [x, y]. */
export interface Line {
  series: string;
  points: Array<[number, number]>;
}

/** One SVG panel of lines over a shared x axis (e.g. a timeline), with a legend. */
export function lineChart(title: string, unitX: string, unitY: string, lines: Line[]): string {
  const width = 2 * PANEL_W;
  const height = PANEL_H + 56;
  const plotW = width - PAD.left - PAD.right;
  const plotH = PANEL_H - PAD.top - PAD.bottom;
  const all = lines.flatMap((l) => l.points);
  const maxX = niceMax(Math.max(0, ...all.map((p) => p[0])));
  const maxY = niceMax(Math.max(0, ...all.map((p) => p[1])));
  const x = (v: number): number => PAD.left + (v / maxX) * plotW;
  const y = (v: number): number => PAD.top + plotH - (v / maxY) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${xml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-weight="bold">${xml(title)}</text>`,
    `<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle" fill="#555">${xml(unitY)}</text>`,
    `<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH + 34}" text-anchor="middle" fill="#555">${xml(unitX)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const vy = (maxY / 4) * i;
    const vx = (maxX / 4) * i;
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(vy)}" y2="${y(vy)}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y(vy) + 4}" text-anchor="end" fill="#555">${format(vy)}</text>`,
      `<text x="${x(vx)}" y="${PAD.top + plotH + 16}" text-anchor="middle" fill="#555">${format(vx)}</text>`,
    );
  }
  lines.forEach((line, s) => {
    const color = COLORS[line.series] ?? FALLBACK[s % FALLBACK.length];
    const points = line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`);
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(' ')}"><title>${xml(line.series)}</title></polyline>`,
      `<rect x="${16 + s * 130}" y="${PANEL_H + 14}" width="12" height="12" fill="${color}"/><text x="${34 + s * 130}" y="${PANEL_H + 24}">${xml(line.series)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
