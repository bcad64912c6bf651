import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '../../src/fleet/errors.ts';
import { checkExtDocument, MAX_EXT_BYTES, MAX_EXT_DEPTH, mergeExt } from '../../src/fleet/ext-document.ts';

const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof FleetError, String(error));
    assert.equal(error.type, 'invalid_data');
    return error.code;
  }
  assert.fail('accepted');
};

const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: true } : { level: nested(depth - 1) });

describe('ext documents', () => {
  test('merge: objects merge recursively, arrays and scalars replace, null removes', () => {
    const defaults = { name: '默认店', theme: { color: 'red', font: { size: 12, family: 'sans' } }, tabs: ['home', 'menu'], pay: { enabled: true }, gone: 1 };
    const overrides = { theme: { font: { size: 14 }, dark: true }, tabs: ['home'], pay: false, gone: null, shopId: 's1', fresh: { a: 1, b: null } };
    assert.deepEqual(mergeExt(defaults, overrides), {
      name: '默认店',
      theme: { color: 'red', font: { size: 14, family: 'sans' }, dark: true },
      tabs: ['home'],
      pay: false,
      shopId: 's1',
      fresh: { a: 1 },
    });
    assert.deepEqual(mergeExt({ a: { b: 1, c: 2 } }, { a: { c: null } }), { a: { b: 1 } }, 'null removes a nested key');
    assert.deepEqual(mergeExt({ a: [1, { x: 1 }] }, { a: { x: 2 } }), { a: { x: 2 } }, 'an object replaces an array');
    assert.deepEqual(mergeExt({ a: { x: 1 } }, { a: [1] }), { a: [1] }, 'an array replaces an object');
    assert.deepEqual(mergeExt({}, {}), {});
    assert.deepEqual(mergeExt({ a: 1 }, { missing: null }), { a: 1 }, 'removing what is not there');
  });

  test('merge leaves its inputs alone', () => {
    const defaults = { theme: { color: 'red' } };
    const overrides = { theme: { color: 'blue' } };
    mergeExt(defaults, overrides);
    assert.deepEqual(defaults, { theme: { color: 'red' } });
    assert.deepEqual(overrides, { theme: { color: 'blue' } });
  });

  test('validation: a JSON object within the size and depth limits, with no prototype keys', () => {
    assert.deepEqual(checkExtDocument({ a: [1, 'x', null, { b: true }] }), { a: [1, 'x', null, { b: true }] });
    assert.ok(checkExtDocument(nested(MAX_EXT_DEPTH)));
    for (const value of [null, [], 'text', 3, true, undefined]) assert.equal(codeOf(() => checkExtDocument(value)), 'ext_invalid', String(value));
    assert.equal(codeOf(() => checkExtDocument(nested(MAX_EXT_DEPTH + 1))), 'ext_too_deep');
    assert.equal(codeOf(() => checkExtDocument({ list: [[[[[[[[[[1]]]]]]]]]] })), 'ext_too_deep', 'arrays count as levels');
    assert.equal(codeOf(() => checkExtDocument({ text: 'x'.repeat(MAX_EXT_BYTES) })), 'ext_too_large');
    // UTF-8 bytes, not characters: 12,000 三-byte characters are 36,000 bytes.
    assert.equal(codeOf(() => checkExtDocument({ text: '店'.repeat(12_000) })), 'ext_too_large');
    assert.equal(codeOf(() => checkExtDocument({ n: Number.NaN })), 'ext_invalid');
    assert.equal(codeOf(() => checkExtDocument({ f: () => 1 })), 'ext_invalid');
    assert.equal(codeOf(() => checkExtDocument({ a: { constructor: { prototype: {} } } })), 'ext_invalid');
    assert.equal(codeOf(() => checkExtDocument(JSON.parse('{"__proto__": {"admin": true}}'))), 'ext_invalid');
  });
});
