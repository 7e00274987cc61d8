/** Structured log fields: task id, worker id, and whatever else helps. */
export type LogFields = Record<string, unknown>;

/** Where the library writes what it does. The CLI prints JSON lines; the default is silent. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
