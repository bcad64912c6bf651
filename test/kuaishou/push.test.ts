import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PushError } from '../../src/kuaishou/errors.ts';
import type { PushErrorCode } from '../../src/kuaishou/errors.ts';
import * as push from '../../src/kuaishou/push/index.ts';
import type { KnownPushEvent, PushKeys, SealablePushEvent } from '../../src/kuaishou/push/index.ts';

const keyOf = (seed: number): string =>
  Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + seed) & 255)).toString('base64').replace(/=$/, '');
const KEY = keyOf(11);
const KEY_HEX = push.messageKeyBytes(KEY).toString('hex');
const TOKEN = 'verify-token-Zq81';
const TICKET = 'ticket-SECRET-7f3e9a';
const KEYS: PushKeys = { token: TOKEN, key: KEY, componentAppId: 'tp_app_1' };
const SECRETS = [KEY, KEY_HEX, TOKEN, TICKET];

function assertNoSecrets(error: Error): void {
  for (const secret of SECRETS) assert.ok(!error.message.includes(secret), `message leaks a secret: ${error.message}`);
}

/** Runs `fn`; any throw must be a PushError (with one of `codes`, when given) that leaks no secret. */
function attempt(fn: () => unknown, codes?: PushErrorCode[]): PushError | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PushError, `not a PushError: ${String(error)}`);
    assertNoSecrets(error);
    if (codes) assert.ok(codes.includes(error.code), `got ${error.code}, want ${codes.join('|')}: ${error.message}`);
    return error;
  }
  if (codes) assert.fail(`expected PushError ${codes.join('|')}`);
  return undefined;
}

const signed = (body: string | Record<string, unknown>, token = TOKEN) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { body: text, signature: push.signPush(text, token) };
};
const envelope = (encryptedMsg: unknown, extra: Record<string, unknown> = {}) =>
  ({ encryptedMsg, msgId: 'm1', componentAppId: KEYS.componentAppId, timestamp: 1_700_000_000_000, ...extra });
const sealedRaw = (raw: Record<string, unknown>) => push.sealPush({ event: { raw }, msgId: 'm1' }, KEYS);
const open = (p: { body: string | Uint8Array; signature: string | undefined }, keys = KEYS) =>
  push.openPush(p.body, p.signature, keys);

const EVENTS: KnownPushEvent[] = [
  { type: 'ticket', componentAppId: 'tp_app_1', ticket: TICKET, expiresInS: 10800, eventTime: 1_700_000_000_000 },
  {
    type: 'authorized', appId: 'ks100', authorizationCode: 'code-1', codeExpiresInS: 3600, eventTime: 1,
    permissions: [{ id: 1, category: 'development', description: '开发管理' }, { id: 4, category: 'permissions', description: '' }],
  },
  { type: 'authorizationUpdated', appId: 'ks100', authorizationCode: 'code-2', codeExpiresInS: 3600, permissions: [] },
  { type: 'unauthorized', appId: 'ks100', eventTime: 5 },
  { type: 'reauthorizationCode', appId: 'ks100', authorizationCode: 'code-3' },
  { type: 'reauthorizationCode', appId: 'ks100', authorizationCode: 'code-4', codeExpiresInS: 3600, eventTime: 9 },
  { type: 'auditResult', appId: 'ks100', userVersion: '1.0.2', passed: true },
  { type: 'auditResult', appId: 'ks100', userVersion: '1.0.3', passed: false, reason: '类目不符', eventTime: 7 },
  ...(['shortVideoMount', 'liveMount', 'publishKuaishou', 'phoneNumber'] as const).map((capability, i): KnownPushEvent => ({
    type: 'capabilityResult', appId: 'ks100', capability, status: i % 2 ? 'rejected' : 'approved', ...(i % 2 ? { reason: 'no' } : {}),
  })),
];

describe('round trip', () => {
  for (const [i, event] of EVENTS.entries()) {
    test(`${event.type} #${i}`, () => {
      const sealed = push.sealPush({ event, msgId: 'msg-1', timestamp: 42 }, KEYS);
      const opened = open(sealed);
      assert.deepEqual(opened, { msgId: 'msg-1', timestamp: 42, componentAppId: 'tp_app_1', event });
      assert.deepEqual(open({ body: Buffer.from(sealed.body), signature: sealed.signature.toUpperCase() }).event, event);
    });
  }

  test('wire names: capabilities, statuses and permissions', () => {
    const wire = EVENTS.map((e) => push.encodePushEvent(e, 'tp_app_1'));
    assert.deepEqual(wire.map((w) => w.event), ['COMPONENT_TICKET', 'AUTHORIZED', 'UPDATE_AUTHORIZED', 'UNAUTHORIZED',
      'RE_AUTHORIZATION_CODE', 'RE_AUTHORIZATION_CODE', 'PACKAGE_AUDIT_RESULT', 'PACKAGE_AUDIT_RESULT',
      'CAPABILITY_RESULT', 'CAPABILITY_RESULT', 'CAPABILITY_RESULT', 'CAPABILITY_RESULT']);
    assert.deepEqual(wire.slice(-4).map((w) => 'capability' in w && [w.capability, w.status]), [['SHORT_VIDEO_MOUNT', 'APPROVED'],
      ['LIVE_MOUNT', 'REJECTED'], ['PUBLISH_KUAISHOU', 'APPROVED'], ['PHONE_NUMBER', 'REJECTED']]);
    assert.deepEqual(wire[1], { event: 'AUTHORIZED', componentAppId: 'tp_app_1', eventTime: 1, authorizerAppId: 'ks100',
      authorizationCode: 'code-1', authorizationCodeExpiresIn: 3600, authorizePermission: [
        { id: 1, category: 'development', description: '开发管理' }, { id: 4, category: 'permissions', description: '' }] });
    assert.deepEqual(wire[0], { event: 'COMPONENT_TICKET', componentAppId: 'tp_app_1', componentTicket: TICKET,
      eventTime: 1_700_000_000_000, expiresIn: 10800 });
    assert.equal(wire[6] && 'status' in wire[6] && wire[6].status, 'PASS');
  });

  test('unknown event is handed on, not refused; ack and header', () => {
    const raw = { event: 'NEW_THING', componentAppId: 'tp_app_1', whatever: [1, { a: null }] };
    assert.deepEqual(open(sealedRaw(raw)).event, { type: 'unknown', event: 'NEW_THING', payload: raw });
    assert.deepEqual(push.pushAck('m9'), { result: 1, message_id: 'm9' });
    assert.equal(push.PUSH_SIGNATURE_HEADER, 'kwaisign');
  });
});

describe('tampering', () => {
  const good = push.sealPush({ event: EVENTS[0] as KnownPushEvent, msgId: 'm1' }, KEYS);
  const cases: [string, PushErrorCode[], () => unknown][] = [
    ['flipped body byte', ['bad_signature'], () => {
      const bytes = Buffer.from(good.body);
      bytes[40] = (bytes[40] ?? 0) ^ 1;
      return open({ body: bytes, signature: good.signature });
    }],
    ['wrong token', ['bad_signature'], () => open(signed(good.body, 'other-token'))],
    ['missing signature', ['bad_signature'], () => open({ body: good.body, signature: undefined })],
    ['short signature', ['bad_signature'], () => open({ body: good.body, signature: good.signature.slice(0, 39) })],
    ['long signature', ['bad_signature'], () => open({ body: good.body, signature: `${good.signature}00` })],
    ['non-hex signature', ['bad_signature'], () => open({ body: good.body, signature: `${good.signature.slice(0, 39)}g` })],
    ['empty token configured', ['bad_signature'], () => open(signed(good.body, ''), { ...KEYS, token: '' })],
    ['wrong key', ['bad_ciphertext', 'bad_plaintext'], () => open(push.sealPush({ event: EVENTS[3] as KnownPushEvent, msgId: 'm' }, { ...KEYS, key: keyOf(99) }))],
    ['bad key configured', ['bad_key'], () => open(good, { ...KEYS, key: `${KEY.slice(0, 42)}!` })],
    ['bad base64 chars', ['bad_ciphertext'], () => open(signed(envelope('AAAA*AAA')))],
    ['base64 without padding', ['bad_ciphertext'], () => open(signed(envelope(Buffer.alloc(17).toString('base64').replace(/=+$/, ''))))],
    ['length not multiple of 16', ['bad_ciphertext'], () => open(signed(envelope(Buffer.alloc(17).toString('base64'))))],
    ['plaintext not JSON', ['bad_plaintext'], () => open(signed(envelope(push.encryptPushMessage('not json', KEY))))],
    ['envelope not JSON', ['bad_envelope'], () => open(signed('not json'))],
    ['envelope is an array', ['bad_envelope'], () => open(signed('[]'))],
    ['envelope not UTF-8', ['bad_envelope'], () => {
      const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
      return open({ body: bytes, signature: push.signPush(bytes, TOKEN) });
    }],
    ...(['encryptedMsg', 'msgId', 'componentAppId', 'timestamp'] as const).map((field): [string, PushErrorCode[], () => unknown] =>
      [`envelope without ${field}`, ['bad_envelope'], () => open(signed(envelope(push.encryptPushMessage('{}', KEY), { [field]: undefined })))]),
    ['mistyped timestamp', ['bad_envelope'], () => open(signed(envelope('AAAA', { timestamp: 'soon' })))],
    ['envelope for another component', ['wrong_component'], () => open(push.sealPush({ event: EVENTS[3] as KnownPushEvent, msgId: 'm' }, { ...KEYS, componentAppId: 'tp_other' }))],
    ['ticket for another component', ['wrong_component'], () => open(push.sealPush({ event: { ...EVENTS[0], componentAppId: 'tp_other' } as KnownPushEvent, msgId: 'm' }, KEYS))],
    ['payload for another component', ['wrong_component'], () => open(sealedRaw({ event: 'UNAUTHORIZED', componentAppId: 'tp_other', authorizerAppId: 'ks1' }))],
    ['unknown payload for another component', ['wrong_component'], () => open(sealedRaw({ event: 'X', componentAppId: 7 }))],
    ['ticket without componentTicket', ['bad_event'], () => open(sealedRaw({ event: 'COMPONENT_TICKET', componentAppId: 'tp_app_1', eventTime: 1, expiresIn: 1 }))],
    ['ticket value in a number field', ['bad_event'], () => open(sealedRaw({ event: 'COMPONENT_TICKET', componentAppId: 'tp_app_1', componentTicket: 't', eventTime: 1, expiresIn: TICKET }))],
    ['authorized with a bad permission', ['bad_event'], () => open(sealedRaw({ event: 'AUTHORIZED', authorizerAppId: 'ks1', authorizationCode: 'c', authorizationCodeExpiresIn: 1, authorizePermission: [{ id: 'x' }] }))],
    ['unknown capability', ['bad_event'], () => open(sealedRaw({ event: 'CAPABILITY_RESULT', authorizerAppId: 'ks1', capability: 'FLY', status: 'APPROVED' }))],
    ['audit status unknown', ['bad_event'], () => open(sealedRaw({ event: 'PACKAGE_AUDIT_RESULT', authorizerAppId: 'ks1', userVersion: '1', status: 'MAYBE' }))],
    ['payload without event', ['bad_event'], () => open(sealedRaw({ authorizerAppId: 'ks1' }))],
    ['payload is an array', ['bad_event'], () => open(signed(envelope(push.encryptPushMessage('[1]', KEY))))],
  ];
  for (const [name, codes, fn] of cases) void test(name, () => void attempt(fn, codes));

  test('bad keys are refused without quoting them', () => {
    for (const key of ['', KEY.slice(1), `${KEY}A`, `${KEY.slice(0, 42)}-`, `${KEY}=`]) {
      attempt(() => push.messageKeyBytes(key), ['bad_key']);
    }
    assert.equal(push.messageKeyBytes(KEY).length, 32);
  });
});

describe('independent vectors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-push-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const openssl = (args: string[], input: string) =>
    execFileSync('/usr/bin/openssl', ['enc', ...args, '-aes-256-cbc', '-K', KEY_HEX, '-iv', KEY_HEX.slice(0, 32), '-base64', '-A', '-in', input], { encoding: 'utf8' }).trim();

  test('signature matches python hashlib.sha1', () => {
    const body = push.sealPush({ event: EVENTS[7] as KnownPushEvent, msgId: '消息-1' }, KEYS).body;
    const script = 'import hashlib,sys; print(hashlib.sha1(open(sys.argv[1],"rb").read()+sys.argv[2].encode()).hexdigest())';
    const expected = execFileSync('python3', ['-c', script, file('body.json', body), TOKEN], { encoding: 'utf8' }).trim();
    assert.equal(push.signPush(body, TOKEN), expected);
    assert.equal(push.signPush(Buffer.from(body), TOKEN), expected);
    assert.ok(push.verifyPushSignature(body, expected, TOKEN));
  });

  test('ciphertext matches openssl enc -aes-256-cbc, both ways', () => {
    for (const [i, plain] of ['{"event":"COMPONENT_TICKET"}', '', 'x'.repeat(16), JSON.stringify({ t: TICKET, zh: '快手小程序' })].entries()) {
      const ours = push.encryptPushMessage(plain, KEY);
      assert.equal(ours, openssl([], file(`plain-${i}`, plain)));
      assert.equal(push.decryptPushMessage(openssl([], file(`p-${i}`, plain)), KEY), plain);
      assert.equal(openssl(['-d'], file(`cipher-${i}`, ours)), plain.trim());
    }
  });
});

describe('fuzz: only PushError ever escapes openPush', () => {
  let state = 0x9e3779b9;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const json = (depth: number): unknown => pick([
    () => null, () => int(1e6) - 5e5, () => rand() < 0.5, () => bytes(int(20)).toString('latin1'),
    () => (rand() < 0.05 ? 'A'.repeat(200_000) : 'AAAA'), () => push.encryptPushMessage(JSON.stringify(json(2)), KEY),
    () => (depth > 0 ? Array.from({ length: int(4) }, () => json(depth - 1)) : []),
    () => (depth > 0 ? Object.fromEntries(Array.from({ length: int(5) }, () => [pick(FIELDS), json(depth - 1)])) : {}),
  ])();
  const FIELDS = ['event', 'encryptedMsg', 'msgId', 'componentAppId', 'timestamp', 'componentTicket', 'authorizerAppId',
    'authorizePermission', 'status', 'capability', 'eventTime', 'expiresIn', '__proto__', 'x'];
  const EVENT_NAMES = ['COMPONENT_TICKET', 'AUTHORIZED', 'UNAUTHORIZED', 'RE_AUTHORIZATION_CODE', 'PACKAGE_AUDIT_RESULT', 'CAPABILITY_RESULT', 'NEW'];
  const sealable = (): SealablePushEvent => (rand() < 0.5 ? pick(EVENTS) : { raw: { ...(json(2) as object), event: pick(EVENT_NAMES) } });
  const mutate = (text: string): string => {
    const at = int(text.length);
    return pick([
      () => text.slice(0, at), () => text.slice(0, at) + text.slice(at + 1 + int(8)),
      () => text.slice(0, at) + String.fromCharCode(int(0x3000)) + text.slice(at + 1),
      () => text.slice(0, at) + JSON.stringify(json(1)) + text.slice(at),
    ])();
  };

  test('500 rounds of random and mutated bodies', () => {
    let opened = 0;
    for (let i = 0; i < 500; i++) {
      const random = bytes(int(300));
      attempt(() => push.openPush(random, pick([undefined, '', bytes(20).toString('hex'), bytes(8).toString('latin1')]), KEYS), ['bad_signature']);
      attempt(() => push.openPush(random, push.signPush(random, TOKEN), KEYS));
      const envelopeLike = JSON.stringify(rand() < 0.5 ? json(3) : envelope(json(1), rand() < 0.5 ? {} : { timestamp: json(0) }));
      attempt(() => open(signed(envelopeLike)));
      const body = mutate(push.sealPush({ event: sealable(), msgId: `m${i}` }, KEYS).body);
      if (!attempt(() => open(signed(body)))) opened++;
    }
    assert.ok(opened > 0 && opened < 500, `opened ${opened}: mutations should sometimes survive, mostly not`);
  });
});
