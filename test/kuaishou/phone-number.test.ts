/**
 * The getPhoneNumber data (AES-128-CBC, PKCS#7, base64) against an independent implementation: the
 * `openssl` command line seals what `openPhoneNumber` opens, and opens what `sealPhoneNumber` seals.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { openPhoneNumber, PhoneDataError, sealPhoneNumber } from '../../src/kuaishou/index.ts';

// A fixed vector: 16-byte key and iv (hex), as openssl takes them.
const KEY_HEX = '00112233445566778899aabbccddeeff';
const IV_HEX = '0f0e0d0c0b0a09080706050403020100';
const sessionKey = Buffer.from(KEY_HEX, 'hex').toString('base64');
const iv = Buffer.from(IV_HEX, 'hex').toString('base64');
const APP = 'ks0000000000000001';

function opensslSeal(plaintext: string, keyHex = KEY_HEX, ivHex = IV_HEX): string {
  return execFileSync('openssl', ['enc', '-aes-128-cbc', '-K', keyHex, '-iv', ivHex, '-base64', '-A'], { input: plaintext }).toString('utf8').trim();
}

const document = (appid: string): string =>
  JSON.stringify({ phoneNumber: '+86 13800138000', purePhoneNumber: '13800138000', countryCode: '86', watermark: { appid, timestamp: 1765000000 } });

test('opens what openssl sealed, checking the watermark', () => {
  const encryptedData = opensslSeal(document(APP));
  assert.deepEqual(openPhoneNumber({ appId: APP, sessionKey, encryptedData, iv }), { phoneNumber: '+86 13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
});

test('sealed for another mini-program, with another key, altered, or not the document → a PhoneDataError naming the problem', () => {
  const problem = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof PhoneDataError, String(error));
      assert.ok(!error.message.includes('13800138000') && !error.message.includes(sessionKey), 'no number or key in the message');
      return error.problem;
    }
    return 'opened';
  };
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey, encryptedData: opensslSeal(document('ks_other')), iv })), 'watermark_mismatch');
  const otherKey = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex').toString('base64');
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey: otherKey, encryptedData: opensslSeal(document(APP)), iv })), 'undecryptable');
  const altered = Buffer.from(opensslSeal(document(APP)), 'base64');
  altered[altered.length - 1]! ^= 0xff;
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey, encryptedData: altered.toString('base64'), iv })), 'undecryptable');
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey, encryptedData: opensslSeal('{"hello":"world"}'), iv })), 'unexpected_content');
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey: 'c2hvcnQ=', encryptedData: opensslSeal(document(APP)), iv })), 'malformed');
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey, encryptedData: 'not base64!', iv })), 'malformed');
  assert.equal(problem(() => openPhoneNumber({ appId: APP, sessionKey, encryptedData: Buffer.alloc(15).toString('base64'), iv })), 'malformed');
});

test('sealPhoneNumber seals what openssl opens (a fresh iv each time)', () => {
  const phone = { phoneNumber: '13912345678', purePhoneNumber: '13912345678', countryCode: '86' };
  const sealed = sealPhoneNumber({ appId: APP, sessionKey, phone, timestamp: 1765000001 });
  const ivHex = Buffer.from(sealed.iv, 'base64').toString('hex');
  const opened = execFileSync('openssl', ['enc', '-d', '-aes-128-cbc', '-K', KEY_HEX, '-iv', ivHex, '-base64', '-A'], { input: sealed.encryptedData }).toString('utf8');
  assert.deepEqual(JSON.parse(opened), { ...phone, watermark: { appid: APP, timestamp: 1765000001 } });
  assert.notEqual(sealPhoneNumber({ appId: APP, sessionKey, phone }).iv, sealed.iv);
});
