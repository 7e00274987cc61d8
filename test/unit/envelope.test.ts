import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeEnvelope, encodeEnvelope, type TaskEnvelope } from '../../src/core/envelope.ts';
import { isYadtqError } from '../../src/core/errors.ts';
import { dedupKeyOf } from '../../src/core/json.ts';
import { decodeEnvelopeV1 } from '../fixtures/decode-envelope-v1.0.ts';

const FIXTURES = new URL('../fixtures/envelope/', import.meta.url);
const files = readdirSync(FIXTURES).sort();

/** A fixture's text without the trailing newline editors add. */
function fixture(file: string): string {
  return readFileSync(new URL(file, FIXTURES), 'utf8').replace(/\n$/, '');
}

/** What is wrong with each invalid fixture, as the error message must say it. */
const INVALID: Record<string, RegExp> = {
  'invalid-version-2.json': /unsupported version 2 \(expected 1\)/,
  'invalid-missing-id.json': /"id" must be a non-empty string/,
  'invalid-attempt-zero.json': /"attempt" must be ≥ 1/,
  'invalid-not-object.json': /not a JSON object/,
  'invalid-args-missing.json': /"args" is missing/,
  'invalid-not-json.txt': /not JSON/,
  'invalid-ordering-key-empty.json': /"orderingKey" must be a string of 1 to 1000 characters/,
};

function assertInvalid(text: string, message: RegExp): void {
  assert.throws(
    () => decodeEnvelope(text),
    (error) => {
      assert.ok(isYadtqError(error, 'INVALID_MESSAGE'), `expected INVALID_MESSAGE, got ${error}`);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('envelope: golden fixtures', () => {
  const valid = files.filter((file) => file.startsWith('v1-'));

  test('the fixture folder holds the valid and every invalid fixture', () => {
    assert.deepEqual(valid, [
      'v1-basic.json',
      'v1-object-args.json',
      'v1-ordering-key.json',
      'v1-unset-options.json',
    ]);
    assert.deepEqual(
      files.filter((file) => file.startsWith('invalid-')),
      Object.keys(INVALID).sort(),
    );
  });

  for (const file of valid) {
    test(`${file}: encode(decode(text)) is the same text, byte for byte`, () => {
      const text = fixture(file);
      assert.equal(encodeEnvelope(decodeEnvelope(text)), text);
    });
  }

  test('v1-basic.json decodes to the documented fields', () => {
    const expected: TaskEnvelope = {
      v: 1,
      id: '01KAV9FT00AWRBDV85VD5GD656',
      name: 'add',
      args: [1, 2],
      attempt: 1,
      maxAttempts: 3,
      timeoutMs: 30000,
      dedupKey: 'add:SaZHF9XUyxmVLm6sKUZBXPaHmtrPmQjn2HIzLTLG5oQ',
      submittedAt: 1764000000000,
    };
    assert.deepEqual(decodeEnvelope(fixture('v1-basic.json')), expected);
  });

  test("v1-basic.json's dedupKey is dedupKeyOf(name, args), so the dedup hash cannot change silently", () => {
    const envelope = decodeEnvelope(fixture('v1-basic.json'));
    assert.equal(envelope.dedupKey, dedupKeyOf(envelope.name, envelope.args));
  });

  test('v1-object-args.json keeps nested object args, key order and non-ASCII text', () => {
    const envelope = decodeEnvelope(fixture('v1-object-args.json'));
    assert.deepEqual(envelope.args, {
      customer: { name: 'Zürich AG', tags: ['b', 'a'] },
      lines: [{ sku: 'X-1', qty: 2, price: 9.5 }],
      draft: false,
      note: null,
    });
    assert.equal(envelope.attempt, 2);
    assert.equal(envelope.dedupKey, 'invoice:2025-0042');
  });

  test('v1-unset-options.json (a submit by name) marks the options the submitter left unset', () => {
    const envelope = decodeEnvelope(fixture('v1-unset-options.json'));
    assert.deepEqual(envelope.unset, ['timeoutMs', 'maxAttempts']);
    assert.equal(envelope.timeoutMs, 30000, "the client's default, for workers that do not know");
    assert.equal(envelope.maxAttempts, 1);
    assert.equal(envelope.dedupKey, dedupKeyOf(envelope.name, envelope.args));
  });

  for (const file of valid) {
    test(`${file} decodes with the decoder released before "unset" (an older worker)`, () => {
      const text = fixture(file);
      // Fields added since are ignored by it (an older worker runs a lane's task unordered).
      const { unset: _new, orderingKey: _newer, ...current } = decodeEnvelope(text);
      assert.deepEqual(decodeEnvelopeV1(text), current);
    });
  }

  for (const [file, message] of Object.entries(INVALID)) {
    test(`${file} is refused with INVALID_MESSAGE naming the problem`, () => {
      assertInvalid(fixture(file), message);
    });
  }
});

describe('envelope: encode and decode', () => {
  const basic = () => decodeEnvelope(fixture('v1-basic.json'));

  test('encode writes the fields in the documented order, whatever order the object has', () => {
    const { submittedAt, dedupKey, args, name, id, v, attempt, timeoutMs, maxAttempts } = basic();
    const shuffled = { submittedAt, dedupKey, args, name, id, v, attempt, timeoutMs, maxAttempts };
    assert.equal(encodeEnvelope(shuffled), fixture('v1-basic.json'));
  });

  test('encode drops fields that are not part of the format', () => {
    const extra = { ...basic(), secret: 'not on the wire' } as TaskEnvelope;
    assert.equal(encodeEnvelope(extra), fixture('v1-basic.json'));
  });

  test('a null dedupKey round-trips', () => {
    const envelope = { ...basic(), dedupKey: null };
    assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)), envelope);
  });

  test('args may be any JSON value, including null and falsy ones', () => {
    for (const args of [null, 0, false, '', 'text', { a: [] }]) {
      const envelope = { ...basic(), args };
      assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)).args, args);
    }
  });

  const broken: Array<[string, Record<string, unknown>, RegExp]> = [
    ['empty id', { id: '' }, /"id" must be a non-empty string/],
    ['id over 200 characters', { id: 'x'.repeat(201) }, /"id" must be a non-empty string/],
    ['numeric id', { id: 42 }, /"id" must be a non-empty string/],
    ['empty name', { name: '' }, /"name" must be a non-empty string/],
    ['fractional attempt', { attempt: 1.5 }, /"attempt" must be a whole number/],
    ['attempt as text', { attempt: '1' }, /"attempt" must be a whole number/],
    ['negative timeoutMs', { timeoutMs: -1 }, /"timeoutMs" must be a whole number/],
    ['missing maxAttempts', { maxAttempts: undefined }, /"maxAttempts" must be a whole number/],
    [
      'submittedAt as a date string',
      { submittedAt: '2025-11-24' },
      /"submittedAt" must be a whole number/,
    ],
    ['numeric dedupKey', { dedupKey: 7 }, /"dedupKey" must be a string or null/],
    ['missing dedupKey', { dedupKey: undefined }, /"dedupKey" must be a string or null/],
    ['version as text', { v: '1' }, /unsupported version "1"/],
  ];
  for (const [label, change, message] of broken) {
    test(`refuses ${label}`, () => {
      assertInvalid(JSON.stringify({ ...basic(), ...change }), message);
    });
  }

  test('an envelope without unset options is written without the field', () => {
    assert.doesNotMatch(encodeEnvelope({ ...basic(), unset: [] }), /unset/);
  });

  test('unset names this version does not know are dropped, a malformed list refused', () => {
    const text = JSON.stringify({ ...basic(), unset: ['timeoutMs', 'priority'] });
    assert.deepEqual(decodeEnvelope(text).unset, ['timeoutMs']);
    assert.equal(
      decodeEnvelope(JSON.stringify({ ...basic(), unset: ['priority'] })).unset,
      undefined,
    );
    assertInvalid(JSON.stringify({ ...basic(), unset: 'timeoutMs' }), /"unset" must be an array/);
    assertInvalid(JSON.stringify({ ...basic(), unset: [1] }), /"unset" must be an array/);
  });

  test('refuses JSON null and a bare string', () => {
    assertInvalid('null', /not a JSON object/);
    assertInvalid('"add"', /not a JSON object/);
  });
});
