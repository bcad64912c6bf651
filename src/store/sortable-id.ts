import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
let lastMs = -1;
let sequence = 0;

/**
 * An id that sorts by time: 9 base36 digits of epoch ms (enough until the year 5138), a 4-digit
 * per-process sequence (ids made in the same millisecond by one process keep their order), and 8 random
 * base36 characters (ids made by different instances never collide).
 */
export function sortableId(atMs: number): string {
  const ms = Math.max(0, Math.floor(atMs));
  sequence = ms === lastMs ? sequence + 1 : 0;
  lastMs = ms;
  const suffix = Array.from(randomBytes(8), (byte) => ALPHABET[byte % 36]).join('');
  return `${ms.toString(36).padStart(9, '0')}${(sequence % 36 ** 4).toString(36).padStart(4, '0')}${suffix}`;
}
