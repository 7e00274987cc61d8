import { isYadtqError } from '../core/errors.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { statsCommand } from './commands/stats.ts';
import { statusCommand } from './commands/status.ts';
import { submitCommand } from './commands/submit.ts';
import { cancelCommand, retryCommand } from './commands/task-actions.ts';
import { tasksCommand } from './commands/tasks.ts';
import { workerCommand } from './commands/worker.ts';
import { workersCommand } from './commands/workers.ts';
import { USAGE, UsageError } from './usage.ts';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  worker: workerCommand,
  submit: submitCommand,
  status: statusCommand,
  workers: workersCommand,
  demo: demoCommand,
  cancel: cancelCommand,
  retry: retryCommand,
  dlq: dlqCommand,
  stats: statsCommand,
  tasks: tasksCommand,
  dashboard: dashboardCommand,
};

/** Runs one CLI call and returns its exit code: 0 ok, 1 failed, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command "${command}"`);
    return await run(rest);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`yadtq: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (isYadtqError(error)) {
      process.stderr.write(`yadtq: ${error.message} [${error.code}]\n`);
      return 1;
    }
    process.stderr.write(`yadtq: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
