import type { LogFields, Logger } from '../core/logger.ts';
import { prettyLine } from './pretty-log.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Logs on stderr at or above `YADTQ_LOG_LEVEL` (default info): JSON lines, or readable
 * coloured lines when stderr is a terminal. `YADTQ_LOG_FORMAT=json|pretty` overrides.
 */
export function stderrLogger(
  level: string = process.env.YADTQ_LOG_LEVEL ?? 'info',
  format: string = process.env.YADTQ_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json'),
): Logger {
  const min = Math.max(0, LEVELS.indexOf(level as Level));
  const pretty = format === 'pretty';
  const write =
    (at: Level) =>
    (msg: string, fields: LogFields = {}) => {
      if (LEVELS.indexOf(at) < min) return;
      const time = new Date();
      process.stderr.write(
        `${pretty ? prettyLine(time, at, msg, fields, process.stderr.isTTY === true) : JSON.stringify({ time: time.toISOString(), level: at, msg, ...fields })}\n`,
      );
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
