import { DEFAULTS } from '../core/defaults.ts';
import { isYadtqError } from '../core/errors.ts';
import { type Command, HelpRequested, UsageError } from './command.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { pauseCommand, resumeCommand } from './commands/pause.ts';
import { scheduleCommand } from './commands/schedule.ts';
import { statsCommand } from './commands/stats.ts';
import { statusCommand } from './commands/status.ts';
import { submitCommand } from './commands/submit.ts';
import { cancelCommand, retryCommand } from './commands/task-actions.ts';
import { tasksCommand } from './commands/tasks.ts';
import { EXIT_RESTART, workerCommand } from './commands/worker.ts';
import { workersCommand } from './commands/workers.ts';
import { CONNECTION_FLAGS } from './connection-flags.ts';
import { commandUsage, usage } from './usage.ts';

/** Every command, in the order `yadtq help` lists them. */
const COMMANDS: readonly Command[] = [
  workerCommand,
  submitCommand,
  statusCommand,
  cancelCommand,
  retryCommand,
  dlqCommand,
  scheduleCommand,
  pauseCommand,
  resumeCommand,
  workersCommand,
  statsCommand,
  tasksCommand,
  dashboardCommand,
  demoCommand,
];

/** The CLI's help text, printed by `yadtq help` and after a bad command name. */
export const USAGE = usage({
  commands: COMMANDS,
  connection: CONNECTION_FLAGS,
  exitCodes: `Exit codes: 0 ok (submit --wait: task succeeded), 1 failed, 2 usage error,
  ${EXIT_RESTART} worker stopped itself to be restarted (handlers ignoring their abort signal
  held more than --max-zombies slots, default ${DEFAULTS.maxZombies}).`,
});

/** Runs one CLI call and returns its exit code: 0 ok, 1 failed, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const asked = COMMANDS.find((command) => command.name === rest[0]);
    if (name === 'help' && rest.length > 0 && asked === undefined) {
      process.stderr.write(`yadtq: unknown command "${rest[0]}"\n\n${USAGE}`);
      return 2;
    }
    process.stdout.write(asked === undefined ? USAGE : commandUsage(asked));
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`yadtq: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(commandUsage(command));
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`yadtq: ${error.message}\n\n${commandUsage(command)}`);
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
