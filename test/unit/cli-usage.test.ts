import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HelpRequested, parseFlags, UsageError } from '../../src/cli/command.ts';
import { dlqCommand } from '../../src/cli/commands/dlq.ts';
import { submitCommand } from '../../src/cli/commands/submit.ts';
import { workerCommand } from '../../src/cli/commands/worker.ts';
import { CONNECTION_FLAGS } from '../../src/cli/connection-flags.ts';
import { USAGE } from '../../src/cli/main.ts';
import { commandUsage } from '../../src/cli/usage.ts';
import { positive, wholeNumber } from '../../src/core/options.ts';

const FLAGS = {
  limit: { value: 'N', description: 'rows', default: 20, number: wholeNumber(1, 1000) },
  json: { description: 'JSON' },
  cache: { description: 'no cache', negatable: true, default: true },
  host: { value: '<name>', description: 'hosts', multiple: true },
  token: { value: '<secret>', description: 'token', env: 'X_TOKEN', default: 'never-applied' },
} as const;

test('flags are parsed, defaulted and checked from their declaration', () => {
  const { values, positionals } = parseFlags(FLAGS, [
    'a',
    '--limit',
    '7',
    '--host',
    'x',
    '--host',
    'y',
  ]);
  assert.deepEqual(positionals, ['a']);
  assert.deepEqual(values, {
    limit: 7,
    json: false,
    cache: true,
    host: ['x', 'y'],
    token: undefined,
  });
  assert.equal(parseFlags(FLAGS, []).values.limit, 20);
  assert.equal(parseFlags(FLAGS, ['--no-cache']).values.cache, false);
  for (const [argv, message] of [
    [['--limit', '0'], /--limit must be a whole number from 1 to 1000, got "0"/],
    [['--limit', 'ten'], /--limit .* got "ten"/],
    [['--limit', ''], /--limit/],
    [['--bogus'], /bogus/],
    [['--no-json'], /--no-json is not an option/],
    [['--limit'], /limit/],
  ] as const) {
    assert.throws(
      () => parseFlags(FLAGS, [...argv]),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
  assert.throws(() => parseFlags(FLAGS, ['--help']), HelpRequested);
});

test('the usage is made from the declarations: every flag of every command, its default', () => {
  for (const command of [workerCommand, submitCommand, dlqCommand]) {
    for (const [name, flag] of Object.entries(command.flags)) {
      const shown = flag.negatable ? `--no-${name}` : `--${name}`;
      assert.ok(USAGE.includes(shown), `${shown} in the usage`);
      assert.ok(commandUsage(command).includes(flag.description), `${name}'s description`);
    }
  }
  for (const [name, flag] of Object.entries(CONNECTION_FLAGS)) {
    assert.match(USAGE, new RegExp(`--${name} .*env ${flag.env} +default ${flag.default}`));
  }
  assert.match(commandUsage(dlqCommand), /--limit N +messages to show \(default 20\)/);
  assert.match(USAGE, /^Usage:$/m);
  assert.ok(
    USAGE.split('\n').every((line) => line.length <= 110),
    'no line runs away',
  );
  assert.equal(positive.says, 'a whole number > 0');
});
