/** A small, strict parser of the Prometheus text exposition format (0.0.4), for tests. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses `text`; throws naming the line on anything malformed. */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1}: ${line}`;
      if (line === '') return;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta) {
        const [, kind, name, rest] = meta as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
        const family = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
        if (kind === 'TYPE') {
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
            throw new Error(`bad type, ${where}`);
          if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
          family.type = rest;
        } else family.help = rest;
        families.set(name, family);
        return;
      }
      if (line.startsWith('#')) return;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
      if (!match) throw new Error(`bad sample, ${where}`);
      const [, name, , labelText = '', valueText] = match as unknown as string[];
      const labels = parseLabels(labelText, where);
      const value = parseValue(valueText!, where);
      const base = familyOf(name!, families);
      if (base === undefined) throw new Error(`sample without a TYPE, ${where}`);
      const key = `${name}{${Object.entries(labels)
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`;
      if (seen.has(key)) throw new Error(`duplicate series, ${where}`);
      seen.add(key);
      base.samples.push({ name: name!, labels, value });
    });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(base);
  return family?.type === 'histogram' || family?.type === 'summary' ? family : undefined;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = /^([^=]+)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (!match) throw new Error(`bad labels, ${where}`);
    const [all, name, raw] = match as unknown as [string, string, string];
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${name}, ${where}`);
    if (name in labels) throw new Error(`repeated label ${name}, ${where}`);
    labels[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(all.length);
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(value))
    throw new Error(`bad value, ${where}`);
  return value;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
    const count = samples.find((s) => s.name.endsWith('_count'))?.value;
    let previous = 0;
    for (const bucket of buckets) {
      if (bucket.labels.le === undefined) throw new Error(`bucket without le in ${family.name}`);
      if (bucket.value < previous)
        throw new Error(`buckets not cumulative in ${family.name}${key}`);
      previous = bucket.value;
    }
    const inf = buckets.find((b) => b.labels.le === '+Inf');
    if (inf === undefined || inf.value !== count)
      throw new Error(`+Inf bucket must equal _count in ${family.name}${key}`);
  }
}

/** The value of one series, or undefined. */
export function seriesValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(base);
  return family?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}
