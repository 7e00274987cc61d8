import { type ParseArgsConfig, parseArgs } from 'node:util';
import { mustBe, numberText, type Rule } from '../core/options.ts';
import { CONNECTION_FLAGS } from './connection-flags.ts';

/** One flag of a command, declared once: the parser and the usage text are made from it. */
export interface Flag {
  /** What the value is, as the usage shows it (`N`, `<ms>`); none for a switch. */
  readonly value?: string;
  readonly description: string;
  /**
   * The default, shown in the usage and given to the command when the flag is absent
   * (not for a flag with `env`: the connection config resolves those, flag then
   * environment then default).
   */
  readonly default?: string | number | boolean;
  /** May be given more than once. */
  readonly multiple?: boolean;
  /** A switch that is on unless `--no-<name>` is given. */
  readonly negatable?: boolean;
  /** The environment variable read when the flag is absent. */
  readonly env?: string;
  /** The value is a number of this form (read from the text, then checked). */
  readonly number?: Rule<number>;
  /** The value is text of this form. */
  readonly text?: Rule<string>;
}

/** The flags of a command by name (without the leading `--`). */
export type Flags = Readonly<Record<string, Flag>>;

/** What the parser gives a command for its flags. */
export type FlagValues<F extends Flags> = {
  -readonly [K in keyof F]: F[K] extends { value: string }
    ? F[K] extends { multiple: true }
      ? string[] | undefined
      : F[K] extends { number: Rule<number> }
        ? F[K] extends { default: number }
          ? number
          : number | undefined
        : F[K] extends { default: string }
          ? string
          : string | undefined
    : boolean;
};

/** A CLI command: its words, its flags, and what it does with them. */
export interface Command {
  readonly name: string;
  /** The arguments as the usage shows them: `<workerId>`, `<task> [<json-args>]`. */
  readonly args: string;
  /** One line on what it does. */
  readonly summary: string;
  /** Its own flags (every command takes the connection flags too). */
  readonly flags: Flags;
  /** Runs it on the words after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Asked for this command's usage (`--help`): printed, exit code 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
}

/**
 * A command from its declaration. `run` gets the flags parsed, defaulted and checked
 * (a bad one is a {@link UsageError} naming it) and the positional arguments.
 */
export function defineCommand<const F extends Flags>(spec: {
  name: string;
  args?: string;
  summary: string;
  flags: F;
  run(values: FlagValues<typeof CONNECTION_FLAGS & F>, positionals: string[]): Promise<number>;
}): Command {
  const { run, ...declared } = spec;
  return {
    args: '',
    ...declared,
    run: async (argv) => {
      const { values, positionals } = parseFlags({ ...CONNECTION_FLAGS, ...spec.flags }, argv);
      return run(values, positionals);
    },
  };
}

/** Parses `argv` by `flags`. @throws UsageError, HelpRequested */
export function parseFlags<F extends Flags>(
  flags: F,
  argv: string[],
): { values: FlagValues<F>; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean' } };
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = {
      type: flag.value === undefined ? 'boolean' : 'string',
      ...(flag.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      allowNegative: Object.values(flags).some((flag) => flag.negatable),
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help === true) throw new HelpRequested();
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) {
    let value = parsed.values[name];
    if (value === false && !flag.negatable && flag.value === undefined) {
      throw new UsageError(`--no-${name} is not an option`);
    }
    if (value === undefined && flag.env === undefined) value = flag.default;
    if (value === undefined && flag.value === undefined) value = false;
    values[name] = typeof value === 'string' ? checked(name, flag, value) : value;
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals };
}

function checked(name: string, flag: Flag, text: string): string | number {
  if (flag.number !== undefined) {
    const must = numberText(flag.number);
    if (!must.accepts(text)) throw new UsageError(mustBe(`--${name}`, flag.number, text));
    return must.parse(text);
  }
  if (flag.text !== undefined && !flag.text.accepts(text))
    throw new UsageError(mustBe(`--${name}`, flag.text, text));
  return text;
}
