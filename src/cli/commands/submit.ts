import { ORDERING_KEY, PRIORITY, TaskClient, type TaskPriority } from '../../core/client.ts';
import { DEFAULTS } from '../../core/defaults.ts';
import type { JsonValue } from '../../core/json.ts';
import { nonEmpty, positive } from '../../core/options.ts';
import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { recordJson } from '../output.ts';

/** How long `--wait` waits at least, unless `--wait-timeout` says. */
const MIN_WAIT_MS = 60_000;

/** `yadtq submit <task> [<json-args>] …`: prints the id, or with --wait the final record. */
export const submitCommand = defineCommand({
  name: 'submit',
  args: '<task> [<json-args>]',
  summary:
    'Submits one task (args as JSON, default []) and prints its id; with --wait, its final record.',
  flags: {
    wait: { description: 'wait for the outcome; exit 0 only if it succeeded' },
    timeout: { value: '<ms>', description: 'time limit of one run', number: positive },
    'wait-timeout': {
      value: '<ms>',
      description: `how long --wait waits (default twice --timeout, at least ${MIN_WAIT_MS / 1000} s)`,
      number: positive,
    },
    'dedup-key': {
      value: '<key>',
      description: 'share a task in flight under this key',
      text: nonEmpty,
    },
    dedup: {
      description: 'never share an identical task in flight',
      negatable: true,
      default: true,
    },
    cache: { description: 'never answer from the result cache', negatable: true, default: true },
    'ordering-key': {
      value: '<key>',
      description: 'ordering lane: tasks of one key run one at a time, in submit order',
      text: ORDERING_KEY,
    },
    priority: {
      value: 'high|normal|low',
      description:
        'high: starts at the next free slot, ahead of the task log; low: once the backlog is small (default normal)',
      text: PRIORITY,
    },
    'partition-key': {
      value: '<key>',
      description: 'Kafka key, picks the partition (default: the ordering key, else the id)',
    },
    'max-attempts': { value: 'N', description: 'attempts (1 = no retry)', number: positive },
    delay: { value: '<ms>', description: 'run no sooner than this from now', number: positive },
  },
  run: async (values, positionals) => {
    const [name, argsText, ...rest] = positionals;
    if (name === undefined || rest.length > 0)
      throw new UsageError('submit takes <task> and at most one <json-args>');
    let args: JsonValue = [];
    if (argsText !== undefined) {
      try {
        args = JSON.parse(argsText) as JsonValue;
      } catch (error) {
        throw new UsageError(`<json-args> is not JSON: ${argsText} (${(error as Error).message})`);
      }
    }
    const timeoutMs = values.timeout;
    const waitMs = values['wait-timeout'];
    const maxAttempts = values['max-attempts'];
    const delayMs = values.delay;
    const backend = await connect(values);
    try {
      const client = new TaskClient({ broker: backend.broker, store: backend.store });
      const handle = await client.submit(name, args, {
        timeoutMs,
        dedupKey: values['dedup-key'],
        orderingKey: values['ordering-key'],
        priority: values.priority as TaskPriority | undefined,
        partitionKey: values['partition-key'],
        dedup: values.dedup,
        cache: values.cache,
        maxAttempts,
        delayMs,
      });
      if (handle.deduplicated)
        process.stderr.write(`deduplicated: an identical task is in flight (${handle.id})\n`);
      if (handle.cached) process.stderr.write('answered from the result cache\n');
      if (!values.wait) {
        process.stdout.write(`${handle.id}\n`);
        return 0;
      }
      const record = await client.wait(handle, {
        timeoutMs: waitMs ?? Math.max(MIN_WAIT_MS, (timeoutMs ?? DEFAULTS.timeoutMs) * 2),
      });
      process.stdout.write(`${recordJson(record)}\n`);
      return record.status === 'success' ? 0 : 1;
    } finally {
      await backend.close();
    }
  },
});
