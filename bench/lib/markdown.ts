// Markdown helpers of bench/tables.ts: numbers, ratios, tables.

/** The queues in the order every table lists them. */
export const QUEUES = ['yadtq', 'bullmq', 'bee-queue'] as const;
/** A number with `digits` decimals and thousands separators; – when unknown. */
export const n = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '–'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** a / b as `1.23×`; – when either is unknown. */
export const ratio = (a: number | undefined, b: number | undefined): string =>
  a && b ? `${(a / b).toFixed(2)}×` : '–';
export const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
/** A Markdown table. */
export const table = (head: string[], rows: string[][]): string =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
