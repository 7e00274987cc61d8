import type { Command, Flag, Flags } from './command.ts';

/** Width the synopsis lines are wrapped at. */
const WIDTH = 92;

/** `[--name VALUE]`, `[--switch]`, `[--no-switch]`, `[--many VALUE]…` */
function flagSynopsis(name: string, flag: Flag): string {
  const shown = flag.negatable ? `--no-${name}` : `--${name}`;
  const value = flag.value === undefined ? '' : ` ${flag.value}`;
  return `[${shown}${value}]${flag.multiple ? '…' : ''}`;
}

/** `yadtq <name> <args> [--flag V]…`, wrapped under the command's name. */
export function synopsis(command: Pick<Command, 'name' | 'args' | 'flags'>, indent = ''): string {
  const head = `${indent}yadtq ${command.name}${command.args ? ` ${command.args}` : ''}`;
  const pad = ' '.repeat(`${indent}yadtq ${command.name} `.length);
  const lines = [head];
  for (const [name, flag] of Object.entries(command.flags)) {
    const part = flagSynopsis(name, flag);
    const last = lines.length - 1;
    if (`${lines[last]} ${part}`.length > WIDTH) lines.push(pad + part);
    else lines[last] = `${lines[last]} ${part}`;
  }
  return lines.join('\n');
}

/**
 * One line per flag: name and value, description, environment variable, default; in
 * four columns (`table`), or with the last two after the description in parentheses.
 */
export function flagTable(flags: Flags, layout: 'table' | 'notes' = 'notes'): string {
  const rows = Object.entries(flags).map(([name, flag]) => {
    const notes = [
      flag.env === undefined ? '' : `env ${flag.env}`,
      flag.default === undefined || flag.negatable || flag.default === false
        ? ''
        : `default ${flag.default}`,
    ];
    const left = `${flag.negatable ? `--no-${name}` : `--${name}`}${flag.value ? ` ${flag.value}` : ''}`;
    if (layout === 'table') return [left, flag.description, ...notes];
    const said = notes.filter(Boolean).join(', ');
    return [left, said === '' ? flag.description : `${flag.description} (${said})`];
  });
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ')}`.trimEnd())
    .join('\n');
}

/** A command's own usage: its synopsis, what it does, and its flags. */
export function commandUsage(command: Command): string {
  const flags =
    Object.keys(command.flags).length === 0 ? '' : `\nOptions:\n${flagTable(command.flags)}\n`;
  return `Usage: ${synopsis(command).replace(/\n/g, '\n       ')}\n\n${command.summary}\n${flags}
The connection options (--brokers, --redis-url, …) apply too: see \`yadtq help\`.
`;
}

/** The help text of the whole CLI, printed by `yadtq help` and after a bad command name. */
export function usage(options: {
  commands: readonly Command[];
  connection: Flags;
  exitCodes: string;
}): string {
  const lines = options.commands.map((command) => synopsis(command, '  '));
  return `yadtq — a distributed task queue on Kafka and Redis

Usage:
${lines.join('\n')}
  yadtq help [<command>]

Connection (every command but demo uses Kafka + Redis; demo is embedded unless told):
${flagTable(options.connection, 'table')}

${options.exitCodes}
`;
}
