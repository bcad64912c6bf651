/**
 * Ext documents: what a valid one is, and how a merchant's overrides apply to a template's defaults.
 * Pure functions, no I/O.
 */
import { FleetError } from './errors.ts';
import type { ExtDocument } from './ext-ports.ts';

/** Serialized size limit of one document (defaults or overrides), in UTF-8 bytes. */
export const MAX_EXT_BYTES = 32 * 1024;
/** Objects and arrays nested deeper than this are refused (the document itself is depth 1). */
export const MAX_EXT_DEPTH = 10;

/** Keys that would reach an object's prototype when merged by a careless consumer. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const extError = (code: string, message: string, details: Record<string, unknown> = {}): FleetError => new FleetError('invalid_data', code, message, details);

/**
 * Checks that `value` is a JSON object within the size and depth limits, with JSON values only (no
 * undefined, functions or non-finite numbers) and no prototype keys. Throws `ext_invalid`, `ext_too_large`
 * or `ext_too_deep`; returns the document.
 */
export function checkExtDocument(value: unknown, what = 'ext'): ExtDocument {
  if (!isObject(value)) throw extError('ext_invalid', `${what} must be a JSON object`, { path: '/' });
  walk(value, '', 1, what);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_EXT_BYTES) throw extError('ext_too_large', `${what} is ${bytes} bytes serialized; at most ${MAX_EXT_BYTES}`, { bytes, max: MAX_EXT_BYTES });
  return value;
}

function walk(value: unknown, path: string, depth: number, what: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw extError('ext_invalid', `${what}${path || '/'}: numbers must be finite`, { path: path || '/' });
    return;
  }
  if (typeof value !== 'object') throw extError('ext_invalid', `${what}${path || '/'}: not a JSON value`, { path: path || '/' });
  if (depth > MAX_EXT_DEPTH) throw extError('ext_too_deep', `${what}${path}: nested deeper than ${MAX_EXT_DEPTH} levels`, { path, max: MAX_EXT_DEPTH });
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}/${index}`, depth + 1, what));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw extError('ext_invalid', `${what}${path}/${key}: this key is not allowed`, { path: `${path}/${key}` });
    walk(item, `${path}/${key}`, depth + 1, what);
  }
}

/**
 * The effective ext: `overrides` applied to `defaults`. Objects merge key by key, recursively; arrays and
 * scalars replace; a `null` in the overrides removes the key. Neither input is modified.
 */
export function mergeExt(defaults: ExtDocument, overrides: ExtDocument): ExtDocument {
  const merged = new Map<string, unknown>(Object.entries(defaults));
  for (const [key, override] of Object.entries(overrides)) {
    if (override === null) {
      merged.delete(key);
      continue;
    }
    const base = merged.get(key);
    // An object over a non-object starts from nothing, so its own nulls are dropped too.
    merged.set(key, isObject(override) ? mergeExt(isObject(base) ? base : {}, override) : override);
  }
  // fromEntries defines own properties: a key named like a prototype member stays plain data.
  return Object.fromEntries(merged);
}
