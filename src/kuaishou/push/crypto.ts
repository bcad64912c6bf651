/**
 * Push signing and message encryption (docs/kuaishou-open-platform.md, "Pushes"; both rules are "code"):
 *
 *   kwaisign = hex(SHA1(raw body bytes ‖ verification TOKEN))
 *   AES-256-CBC, key = base64(KEY + "="), IV = first 16 bytes of the key, PKCS#7 padding.
 *
 * Errors never quote the key, the token, the body or the plaintext: these messages end up in logs.
 */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { PushError } from '../errors.ts';

const KEY_PATTERN = /^[A-Za-z0-9+/]{43}$/;
const SIGNATURE_PATTERN = /^[0-9a-fA-F]{40}$/;
// Buffer.from(…, 'base64') skips junk and accepts missing padding, so a tampered message could still
// "decode"; only canonical, padded base64 is accepted.
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const AES_BLOCK = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesOf(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Lowercase hex SHA1 over the raw body bytes followed by the verification token. */
export function signPush(rawBody: Uint8Array | string, token: string): string {
  return createHash('sha1').update(bytesOf(rawBody)).update(token, 'utf8').digest('hex');
}

/** Constant-time check of a `kwaisign` header; false (never a throw) for anything malformed. */
export function verifyPushSignature(rawBody: Uint8Array | string, signature: string | undefined, token: string): boolean {
  // An unset token would let anyone sign: a misconfigured receiver must refuse every push.
  if (token === '' || signature === undefined || !SIGNATURE_PATTERN.test(signature)) return false;
  const expected = Buffer.from(signPush(rawBody, token), 'hex');
  const given = Buffer.from(signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The 32 AES-256 key bytes behind a 43-character encryption KEY. */
export function messageKeyBytes(key: string): Buffer {
  if (!KEY_PATTERN.test(key)) {
    throw new PushError('bad_key', 'push encryption KEY must be exactly 43 base64 characters');
  }
  const bytes = Buffer.from(`${key}=`, 'base64');
  if (bytes.length !== 32) throw new PushError('bad_key', 'push encryption KEY does not decode to 32 bytes');
  return bytes;
}

/** Base64 of AES-256-CBC(plaintext as UTF-8). */
export function encryptPushMessage(plaintext: string, key: string): string {
  const keyBytes = messageKeyBytes(key);
  const cipher = createCipheriv('aes-256-cbc', keyBytes, keyBytes.subarray(0, AES_BLOCK));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** The UTF-8 plaintext of a base64 AES-256-CBC message; `bad_ciphertext` when it cannot be one. */
export function decryptPushMessage(encryptedBase64: string, key: string): string {
  const keyBytes = messageKeyBytes(key);
  if (encryptedBase64 === '' || !BASE64_PATTERN.test(encryptedBase64)) {
    throw new PushError('bad_ciphertext', 'push message is not valid base64');
  }
  const data = Buffer.from(encryptedBase64, 'base64');
  if (data.length === 0 || data.length % AES_BLOCK !== 0) {
    throw new PushError('bad_ciphertext', 'push message length is not a positive multiple of the AES block size');
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', keyBytes, keyBytes.subarray(0, AES_BLOCK));
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    // OpenSSL only says "bad decrypt": a wrong key and a tampered message look the same, by design.
    throw new PushError('bad_ciphertext', 'push message does not decrypt (wrong key or corrupted message)');
  }
  try {
    return utf8.decode(plain);
  } catch {
    throw new PushError('bad_plaintext', 'decrypted push message is not UTF-8');
  }
}
