import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { type Logger, toLogger } from '../core/logger.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** How pino-pretty lays out a line: the worker and task ids before the message. */
const PRETTY_LINE = '{if workerId}{workerId} {end}{if taskId}task {taskId} {end}{msg}';

/**
 * The CLI's pino logger on stderr at or above `YADTQ_LOG_LEVEL` (default info): JSON
 * lines, or pino-pretty's coloured lines when stderr is a terminal.
 * `YADTQ_LOG_FORMAT=json|pretty` overrides. Written synchronously: a process that exits
 * on a second signal loses no line.
 */
export function cliPino(
  level: string = process.env.YADTQ_LOG_LEVEL ?? 'info',
  format: string = process.env.YADTQ_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json'),
): pino.Logger {
  const options: pino.LoggerOptions = {
    level: (LEVELS as readonly string[]).includes(level) ? level : 'info',
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (format !== 'pretty') return pino(options, pino.destination({ fd: 2, sync: true }));
  const pretty = PinoPretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'workerId,taskId',
    messageFormat: PRETTY_LINE,
    singleLine: true,
  });
  return pino(options, pretty);
}

/** {@link cliPino} as the library's {@link Logger}, for the CLI's own lines. */
export function stderrLogger(level?: string, format?: string): Logger {
  return toLogger(cliPino(level, format));
}
