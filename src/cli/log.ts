import type { LogFields, Logger } from '../core/logger.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** JSON lines on stderr at or above `YADTQ_LOG_LEVEL` (default info). */
export function stderrLogger(level: string = process.env.YADTQ_LOG_LEVEL ?? 'info'): Logger {
  const min = Math.max(0, LEVELS.indexOf(level as Level));
  const write =
    (at: Level) =>
    (msg: string, fields: LogFields = {}) => {
      if (LEVELS.indexOf(at) < min) return;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`,
      );
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
