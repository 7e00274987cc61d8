import { parseArgs } from 'node:util';
import { TaskClient } from '../../core/client.ts';
import type { JsonValue } from '../../core/json.ts';
import { CONNECTION_FLAGS, connect } from '../connection.ts';
import { recordJson } from '../output.ts';
import { UsageError } from '../usage.ts';

/** `yadtq submit <task> [<json-args>] …`: prints the id, or with --wait the final record. */
export async function submitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      ...CONNECTION_FLAGS,
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'wait-timeout': { type: 'string' },
      'dedup-key': { type: 'string' },
      'partition-key': { type: 'string' },
      'max-attempts': { type: 'string' },
      delay: { type: 'string' },
      dedup: { type: 'boolean', default: true },
      cache: { type: 'boolean', default: true },
    },
  });
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
  const timeoutMs = whole('--timeout', values.timeout);
  const waitMs = whole('--wait-timeout', values['wait-timeout']);
  const maxAttempts = whole('--max-attempts', values['max-attempts']);
  const delayMs = whole('--delay', values.delay);
  const backend = await connect(values);
  try {
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const handle = await client.submit(name, args, {
      timeoutMs,
      dedupKey: values['dedup-key'],
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
      timeoutMs: waitMs ?? Math.max(60_000, (timeoutMs ?? 30_000) * 2),
    });
    process.stdout.write(`${recordJson(record)}\n`);
    return record.status === 'success' ? 0 : 1;
  } finally {
    await backend.close();
  }
}

function whole(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0))
    throw new UsageError(`${flag} must be a whole number of ms > 0, got ${value}`);
  return n;
}
