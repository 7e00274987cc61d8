// The JSON Schema of the task envelope (schema/task-envelope.schema.json, shipped in the
// package) is the contract for producers in other languages: it must say yes exactly
// where the worker's decoder does, on the golden fixtures and on every field gone wrong.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { decodeEnvelope } from '../../src/core/envelope.ts';
import { isYadtqError } from '../../src/core/errors.ts';
import { add } from '../../src/demo.ts';
import { type BrokerMessage, createMemoryBackend, TaskClient } from '../../src/index.ts';

const SCHEMA = JSON.parse(
  readFileSync(new URL('../../schema/task-envelope.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(SCHEMA);
const FIXTURES = new URL('../fixtures/envelope/', import.meta.url);
const fixture = (file: string) => readFileSync(new URL(file, FIXTURES), 'utf8');

function decoderAccepts(text: string): boolean {
  try {
    decodeEnvelope(text);
    return true;
  } catch (error) {
    assert.ok(isYadtqError(error, 'INVALID_MESSAGE'), String(error));
    return false;
  }
}

/** The schema's verdict on a message value; text that is not JSON is no envelope at all. */
function schemaAccepts(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return validate(value);
}

describe('envelope JSON Schema', () => {
  test('the schema and the decoder agree on every golden fixture', () => {
    const files = readdirSync(FIXTURES).sort();
    assert.ok(files.length >= 8, 'the fixtures were read');
    for (const file of files) {
      const text = fixture(file);
      const expected = file.startsWith('v1-');
      assert.equal(
        schemaAccepts(text),
        expected,
        `schema on ${file}: ${JSON.stringify(validate.errors)}`,
      );
      assert.equal(decoderAccepts(text), expected, `decoder on ${file}`);
    }
  });

  test('the schema and the decoder agree when any one field is missing or of another value', () => {
    const base = JSON.parse(fixture('v1-basic.json')) as Record<string, unknown>;
    const values: unknown[] = [
      undefined,
      null,
      true,
      '',
      'x',
      'a'.repeat(200),
      'a'.repeat(201),
      -1,
      0,
      1,
      2,
      1.5,
      1764000000000,
      [],
      [1, 2],
      {},
    ];
    let accepted = 0;
    let refused = 0;
    for (const field of Object.keys(base)) {
      for (const value of values) {
        const changed = { ...base, [field]: value };
        if (value === undefined) delete changed[field];
        const text = JSON.stringify(changed);
        const verdict = decoderAccepts(text);
        assert.equal(
          schemaAccepts(text),
          verdict,
          `${field} = ${JSON.stringify(value) ?? 'missing'}: decoder says ${verdict}`,
        );
        if (verdict) accepted++;
        else refused++;
      }
    }
    assert.ok(accepted > 20 && refused > 80, `both verdicts were tried (${accepted}/${refused})`);
    for (const unset of [[], ['timeoutMs'], ['maxAttempts', 'priority'], 'timeoutMs', [1], null]) {
      const text = JSON.stringify({ ...base, unset });
      const verdict = decoderAccepts(text);
      assert.equal(schemaAccepts(text), verdict, `unset = ${JSON.stringify(unset)}`);
    }
    const extra = JSON.stringify({ ...base, traceId: 'abc' });
    assert.ok(schemaAccepts(extra) && decoderAccepts(extra), 'a field not listed is ignored');
  });

  test("what yadtq's own client produces matches the schema", async () => {
    const backend = createMemoryBackend();
    const produced: BrokerMessage[] = [];
    const broker = backend.broker;
    const recording = {
      produce: async (destination: 'tasks' | 'dead-letter', messages: readonly BrokerMessage[]) => {
        produced.push(...messages);
        return broker.produce(destination, messages);
      },
      deadLetters: broker.deadLetters.bind(broker),
      subscribe: broker.subscribe.bind(broker),
      close: broker.close.bind(broker),
    };
    const client = new TaskClient({ broker: recording, store: backend.store });
    await client.submit(add, [1, 2]);
    await client.submit(
      'invoice.render',
      { lines: [{ qty: 2 }] },
      { maxAttempts: 3, dedupKey: 'k' },
    );
    await client.submit('anything', null, { dedup: false, timeoutMs: 5000 });
    await backend.close();
    assert.equal(produced.length, 3);
    for (const message of produced) {
      assert.ok(
        validate(JSON.parse(message.value)),
        `${message.value}: ${JSON.stringify(validate.errors)}`,
      );
    }
  });
});
