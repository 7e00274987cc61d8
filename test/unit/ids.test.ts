import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ulid } from '../../src/core/ids.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The 80 random bits of a ULID, as a number. */
function randomPart(id: string): bigint {
  let bits = 0n;
  for (const char of id.slice(10)) bits = (bits << 5n) | BigInt(ALPHABET.indexOf(char));
  return bits;
}

test('a ULID is 26 Crockford base-32 characters, the first 10 the time', () => {
  const now = 1_764_000_000_000;
  const id = ulid(now);
  assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  let time = 0;
  for (const char of id.slice(0, 10)) time = time * 32 + ALPHABET.indexOf(char);
  assert.equal(time, now);
});

test('ULIDs of one millisecond count up by one in their random part, in order', () => {
  const now = 1_764_000_000_001;
  const ids = Array.from({ length: 1000 }, () => ulid(now));
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`);
    assert.equal(randomPart(ids[i]!), (randomPart(ids[i - 1]!) + 1n) % 2n ** 80n);
  }
  assert.notEqual(randomPart(ulid(now + 1)), randomPart(ids[999]!) + 1n);
});
