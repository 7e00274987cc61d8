/** Structured log fields: task id, worker id, and whatever else helps. */
export type LogFields = Record<string, unknown>;

/** Where the library writes what it does. The CLI logs through pino; the default is silent. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** One level method of a pino-shaped logger: the fields first, then the message. */
export type PinoLogMethod = (fields: LogFields, message: string) => void;

/**
 * A logger shaped like pino's (also bunyan's): `child` and level methods that take an
 * object, then the message. The service's own logger can be passed as it is.
 */
export interface PinoLikeLogger {
  child(bindings: LogFields): PinoLikeLogger;
  debug: PinoLogMethod;
  info: PinoLogMethod;
  warn: PinoLogMethod;
  error: PinoLogMethod;
}

/** What a `logger` option takes: a yadtq {@link Logger} or a pino-shaped one. */
export type LoggerOption = Logger | PinoLikeLogger;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** True for a value a `logger` option accepts (four level methods). */
export function isLoggerOption(value: unknown): value is LoggerOption {
  return LEVELS.every(
    (level) => typeof (value as Record<string, unknown> | null)?.[level] === 'function',
  );
}

/**
 * The {@link Logger} a `logger` option stands for: a pino-shaped logger (one with
 * `child`) is called fields first; absent, {@link silentLogger}.
 */
export function toLogger(option: LoggerOption | undefined): Logger {
  if (option === undefined) return silentLogger;
  if (!isPinoLike(option)) return option;
  const pino = option;
  return {
    debug: (message, fields = {}) => pino.debug(fields, message),
    info: (message, fields = {}) => pino.info(fields, message),
    warn: (message, fields = {}) => pino.warn(fields, message),
    error: (message, fields = {}) => pino.error(fields, message),
  };
}

function isPinoLike(option: LoggerOption): option is PinoLikeLogger {
  return typeof (option as Partial<PinoLikeLogger>).child === 'function';
}
