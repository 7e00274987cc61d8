/**
 * Every code a {@link YadtqError} can carry (callers branch on these, never on message
 * text), each with whether trying again may help: the `retriable` an error of the code
 * has unless its constructor says otherwise. The worker's retry policy reads that flag:
 * a handler that throws a non-retriable error fails its task at once.
 */
export const ERROR_CODES = {
  INVALID_OPTION: { retriable: false },
  INVALID_ARGS: { retriable: false },
  PAYLOAD_TOO_LARGE: { retriable: false },
  INVALID_MESSAGE: { retriable: false },
  /** No handler by this name on the worker that took the task. */
  UNKNOWN_TASK: { retriable: false },
  TASK_NOT_FOUND: { retriable: false },
  /** A create met a record of another submission under its id: nothing was written. */
  TASK_EXISTS: { retriable: false },
  /** The task waited for failed; running it again may succeed. */
  TASK_FAILED: { retriable: true },
  TASK_TIMEOUT: { retriable: true },
  TASK_CANCELLED: { retriable: false },
  WAIT_TIMEOUT: { retriable: true },
  /** A result that is not JSON: the same handler returns it again. */
  INVALID_RESULT: { retriable: false },
  /** The id is free again once the other worker's heartbeat expires. */
  WORKER_ID_IN_USE: { retriable: true },
  /** Each failure says whether it is retriable (a refused login is not). */
  BROKER_UNAVAILABLE: { retriable: true },
  STORE_UNAVAILABLE: { retriable: true },
  CLOSED: { retriable: false },
  /** Its workers died running it `maxWorkerLosses` times: a poison task, likely to again. */
  WORKER_LOST: { retriable: false },
  /** An isolated handler's sandbox ended while running it (process.exit, an uncaught exception, a crash). */
  SANDBOX_EXITED: { retriable: true },
  /** A sandbox could not import the module of an isolated task, or that module does not define it. */
  SANDBOX_LOAD_FAILED: { retriable: false },
  /** A client has as many submits waiting for the store and the broker as it allows. */
  SUBMIT_BACKLOG_FULL: { retriable: true },
} as const satisfies Record<string, { retriable: boolean }>;

/** Every code a {@link YadtqError} can carry. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error class yadtq throws: a stable `code`, and `retriable`, whether trying
 * again may help (the code's, see {@link ERROR_CODES}, unless the constructor says).
 */
export class YadtqError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'YadtqError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
  }
}

/** True when `error` is a {@link YadtqError}, optionally with the given code. */
export function isYadtqError(error: unknown, code?: ErrorCode): error is YadtqError {
  return error instanceof YadtqError && (code === undefined || error.code === code);
}

/**
 * Throw this from a handler to fail the task at once, without the retries it has left
 * (any error with `retriable: false` does the same; `retryable: false` is read too).
 */
export class NonRetryableError extends Error {
  readonly retriable = false;
  /** The older spelling of {@link NonRetryableError.retriable}, still set for code that reads it. */
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}
