import type { LogFields } from '../core/logger.ts';

const COLORS: Record<string, string> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/**
 * One log line for a person at a terminal: time, level, message, then the task and
 * worker ids first and the other fields as key=value.
 */
export function prettyLine(
  time: Date,
  level: string,
  message: string,
  fields: LogFields,
  color = true,
): string {
  const paint = (code: string, text: string) => (color ? `${code}${text}${RESET}` : text);
  const { workerId, taskId, ...rest } = fields;
  const ids = [
    workerId === undefined ? '' : paint(BOLD, String(workerId)),
    taskId === undefined ? '' : paint(DIM, `task ${String(taskId)}`),
  ].filter(Boolean);
  const extra = Object.entries(rest).map(
    ([key, value]) =>
      `${paint(DIM, `${key}=`)}${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`,
  );
  const clock = time.toISOString().slice(11, 23);
  return [
    paint(DIM, clock),
    paint(COLORS[level] ?? '', level.toUpperCase().padEnd(5)),
    ...ids,
    message,
    ...extra,
  ].join(' ');
}
