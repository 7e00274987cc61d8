import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isYadtqError } from '../../src/core/errors.ts';
import { canonicalJson, dedupKeyOf, type JsonValue, toJson } from '../../src/core/json.ts';

/** Asserts `toJson(value, 'args')` fails with INVALID_ARGS, naming `path` and the reason. */
function assertRejected(value: unknown, path: string, why: RegExp): void {
  assert.throws(
    () => toJson(value, 'args'),
    (error) => {
      assert.ok(isYadtqError(error, 'INVALID_ARGS'), `expected INVALID_ARGS, got ${error}`);
      assert.ok(
        error.message.startsWith(`${path} is not JSON: `),
        `message ${JSON.stringify(error.message)} should name ${path}`,
      );
      assert.match(error.message, why);
      return true;
    },
  );
}

describe('toJson rejects what JSON cannot carry, naming where it is', () => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  const deepCycle: unknown[] = [1, { inner: [] as unknown[] }];
  (deepCycle[1] as { inner: unknown[] }).inner.push(deepCycle);

  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a function', () => 1, 'args', /a function cannot be sent/],
    ['a nested function', [1, { x: () => 1 }], 'args[1].x', /a function cannot be sent/],
    ['a BigInt', { total: 10n }, 'args.total', /a bigint cannot be sent/],
    ['a symbol', [Symbol('s')], 'args[0]', /a symbol cannot be sent/],
    ['undefined at the top', undefined, 'args', /undefined cannot be sent/],
    ['undefined inside an array', [1, undefined], 'args[1]', /undefined/],
    ['a hole in a sparse array', new Array<number>(2).fill(7, 0, 1), 'args[1]', /undefined/],
    ['undefined inside an object', { a: { b: undefined } }, 'args.a.b', /undefined/],
    ['NaN', { n: Number.NaN }, 'args.n', /NaN is not a finite number/],
    ['Infinity', [Number.POSITIVE_INFINITY], 'args[0]', /Infinity is not a finite number/],
    ['-Infinity', [[Number.NEGATIVE_INFINITY]], 'args[0][0]', /-Infinity is not a finite number/],
    ['a cycle through an object', cyclic, 'args.self', /cycle/],
    ['a cycle through arrays', deepCycle, 'args[1].inner[0]', /cycle/],
    ['a Date', { when: new Date(0) }, 'args.when', /Date instance is not a plain object/],
    ['a Map', [new Map([['a', 1]])], 'args[0]', /Map instance is not a plain object/],
    [
      'a class instance',
      { p: new (class Point {})() },
      'args.p',
      /Point instance is not a plain object/,
    ],
    ['a Buffer', Buffer.from('hi'), 'args', /Buffer instance is not a plain object/],
  ];
  for (const [label, value, path, why] of cases) {
    test(label, () => assertRejected(value, path, why));
  }

  test('the first bad part is named, in order', () => {
    assertRejected([1, { ok: true }, { bad: Number.NaN }, () => 0], 'args[2].bad', /NaN/);
  });

  test('a result check reports INVALID_RESULT instead', () => {
    assert.throws(
      () => toJson({ at: new Date(0) }, 'result of task "t"', 'INVALID_RESULT'),
      (error) =>
        isYadtqError(error, 'INVALID_RESULT') &&
        error.message.startsWith('result of task "t".at is not JSON'),
    );
  });
});

describe('toJson accepts plain data', () => {
  test('nested plain data comes back as its JSON text', () => {
    const value = {
      id: 7,
      tags: ['a', 'b'],
      nested: { deep: [{ x: null, y: false, z: -0.5 }, [], {}] },
      empty: '',
      unicode: 'Zürich ✓',
    };
    const text = toJson(value, 'args');
    assert.equal(text, JSON.stringify(value));
    assert.deepEqual(JSON.parse(text), value);
  });

  test('scalars and null are JSON', () => {
    for (const value of [null, 0, -1.25, '', 'text', true, false]) {
      assert.equal(toJson(value, 'args'), JSON.stringify(value));
    }
  });

  test('the same object twice (shared, not a cycle) is fine', () => {
    const shared = { n: 1 };
    assert.equal(toJson([shared, { again: shared }], 'args'), '[{"n":1},{"again":{"n":1}}]');
  });

  test('an object without a prototype is plain', () => {
    const bare = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    assert.equal(toJson(bare, 'args'), '{"a":1}');
  });
});

describe('canonicalJson', () => {
  test('sorts object keys', () => {
    assert.equal(canonicalJson({ b: 1, a: 2, c: 3 }), '{"a":2,"b":1,"c":3}');
  });

  test('is independent of key order at every depth', () => {
    const one: JsonValue = { z: { y: [{ b: 1, a: 2 }], x: { d: null, c: 'v' } }, a: 0 };
    const two: JsonValue = { a: 0, z: { x: { c: 'v', d: null }, y: [{ a: 2, b: 1 }] } };
    assert.notEqual(JSON.stringify(one), JSON.stringify(two));
    assert.equal(canonicalJson(one), canonicalJson(two));
    assert.equal(canonicalJson(one), '{"a":0,"z":{"x":{"c":"v","d":null},"y":[{"a":2,"b":1}]}}');
  });

  test('keeps array order', () => {
    assert.equal(canonicalJson([3, 1, 2]), '[3,1,2]');
    assert.notEqual(canonicalJson([[1, 2]]), canonicalJson([[2, 1]]));
  });

  test('writes scalars and escapes keys and strings as JSON does', () => {
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson('a"b'), '"a\\"b"');
    assert.equal(canonicalJson({ 'k"ey': 1.5 }), '{"k\\"ey":1.5}');
    assert.deepEqual(JSON.parse(canonicalJson({ b: [true, 'x'], a: {} })), {
      a: {},
      b: [true, 'x'],
    });
  });
});

describe('dedupKeyOf', () => {
  test('is the name, a colon and a hash', () => {
    assert.match(dedupKeyOf('add', [1, 2]), /^add:[A-Za-z0-9_-]{43}$/);
  });

  test('is equal for equal args with reordered keys', () => {
    assert.equal(
      dedupKeyOf('job', { a: 1, b: { c: 2, d: 3 } }),
      dedupKeyOf('job', { b: { d: 3, c: 2 }, a: 1 }),
    );
  });

  test('differs for a different name', () => {
    assert.notEqual(dedupKeyOf('add', [1, 2]), dedupKeyOf('sub', [1, 2]));
  });

  test('differs for different args, array order included', () => {
    const keys = [[1, 2], [2, 1], [1, 2, 0], { a: 1 }, { a: '1' }, null, '[1,2]'].map((args) =>
      dedupKeyOf('add', args),
    );
    assert.equal(new Set(keys).size, keys.length);
  });
});
