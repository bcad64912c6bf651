/**
 * The `getPhoneNumber` button's encryptedData (doc: mp.kuaishou.com "获取手机号"; the algorithm is inferred
 * from the sibling platforms): AES-128-CBC, key = base64(session_key), iv = base64(iv), PKCS#7 padding,
 * plaintext JSON `{phoneNumber, purePhoneNumber, countryCode, watermark: {appid, timestamp}}`.
 * `openPhoneNumber` is the provider's side; `sealPhoneNumber` is the platform's (the sandbox uses it).
 * No message here ever contains a key, a number or the plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptedUserData, PhoneNumber } from './types.ts';
import type { WirePhoneNumberPlaintext } from './wire.ts';

export type PhoneDataProblem =
  /** Not base64 of the right sizes (a 16-byte key, a 16-byte iv, whole blocks). */
  | 'malformed'
  /** The key does not open it (wrong or stale session, altered data). */
  | 'undecryptable'
  /** Opened, but not the document the platform seals. */
  | 'unexpected_content'
  /** Sealed for another mini-program. */
  | 'watermark_mismatch';

export class PhoneDataError extends Error {
  override name = 'PhoneDataError';
  constructor(
    readonly problem: PhoneDataProblem,
    message: string,
  ) {
    super(message);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function bytes16(text: string, what: string): Buffer {
  const value = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (value.length !== 16) throw new PhoneDataError('malformed', `${what} must be base64 of 16 bytes`);
  return value;
}

export interface OpenPhoneNumberInput extends EncryptedUserData {
  /** The mini-program the session belongs to: the watermark must name it. */
  appId: string;
  sessionKey: string;
}

export function openPhoneNumber(input: OpenPhoneNumberInput): PhoneNumber {
  const key = bytes16(input.sessionKey, 'the session key');
  const iv = bytes16(input.iv, 'iv');
  const data = BASE64.test(input.encryptedData) ? Buffer.from(input.encryptedData, 'base64') : Buffer.alloc(0);
  if (data.length === 0 || data.length % 16 !== 0) throw new PhoneDataError('malformed', 'encryptedData must be base64 of whole AES blocks');
  let text: string;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, iv);
    text = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new PhoneDataError('undecryptable', 'encryptedData does not open with this session: log in again and retry');
  }
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch {
    throw new PhoneDataError('undecryptable', 'encryptedData does not open with this session: log in again and retry');
  }
  const doc = plain as Partial<WirePhoneNumberPlaintext> | null;
  if (
    typeof doc !== 'object' || doc === null ||
    typeof doc.phoneNumber !== 'string' || typeof doc.purePhoneNumber !== 'string' || typeof doc.countryCode !== 'string' ||
    typeof doc.watermark !== 'object' || doc.watermark === null || typeof doc.watermark.appid !== 'string'
  ) {
    throw new PhoneDataError('unexpected_content', 'encryptedData opened but is not a phone number document');
  }
  if (doc.watermark.appid !== input.appId) throw new PhoneDataError('watermark_mismatch', 'encryptedData was sealed for another mini-program');
  return { phoneNumber: doc.phoneNumber, purePhoneNumber: doc.purePhoneNumber, countryCode: doc.countryCode };
}

/** The platform's side: seals a phone number for one mini-program's user under their session key. */
export function sealPhoneNumber(input: { appId: string; sessionKey: string; phone: PhoneNumber; timestamp?: number }): EncryptedUserData {
  const key = bytes16(input.sessionKey, 'the session key');
  const iv = randomBytes(16);
  const plaintext: WirePhoneNumberPlaintext = {
    ...input.phone,
    watermark: { appid: input.appId, timestamp: input.timestamp ?? Math.floor(Date.now() / 1000) },
  };
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
  return { encryptedData: sealed.toString('base64'), iv: iv.toString('base64') };
}
