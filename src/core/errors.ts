/** Every code a {@link YadtqError} can carry; callers branch on these, never on message text. */
export type ErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_ARGS'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_MESSAGE'
  | 'UNKNOWN_TASK'
  | 'TASK_NOT_FOUND'
  | 'TASK_FAILED'
  | 'TASK_TIMEOUT'
  | 'TASK_CANCELLED'
  | 'WAIT_TIMEOUT'
  | 'INVALID_RESULT'
  | 'WORKER_ID_IN_USE'
  | 'BROKER_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'CLOSED'
  | 'WORKER_LOST'
  /** An isolated handler's sandbox ended while running it (process.exit, an uncaught exception, a crash). */
  | 'SANDBOX_EXITED'
  /** A sandbox could not import the module of an isolated task, or that module does not define it. */
  | 'SANDBOX_LOAD_FAILED'
  /** A client has as many submits waiting for the store and the broker as it allows. */
  | 'SUBMIT_BACKLOG_FULL';

/** The one error class yadtq throws: a stable `code`, and whether trying again may help. */
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
    this.retriable = options.retriable ?? false;
  }
}

/** True when `error` is a {@link YadtqError}, optionally with the given code. */
export function isYadtqError(error: unknown, code?: ErrorCode): error is YadtqError {
  return error instanceof YadtqError && (code === undefined || error.code === code);
}

/**
 * Throw this from a handler to fail the task at once, without the retries it has left
 * (any error with `retryable: false` does the same).
 */
export class NonRetryableError extends Error {
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}
