import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadSecretKey, SecretBox, SecretBoxError } from '../../src/store/index.ts';

const KEY = randomBytes(32);

describe('SecretBox', () => {
  test('seals as v1:<iv>:<tag>:<ciphertext> with a fresh IV each time, and opens it again', () => {
    const box = new SecretBox(KEY);
    const first = box.seal('authorizer-access-token');
    const second = box.seal('authorizer-access-token');
    assert.match(first, /^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    assert.notEqual(first, second);
    assert.ok(!first.includes('authorizer'));
    assert.equal(box.open(first), 'authorizer-access-token');
    assert.equal(new SecretBox(Buffer.from(KEY)).open(second), 'authorizer-access-token', 'another box with the same key');
    assert.equal(box.open(box.seal('')), '');
    assert.equal(box.open(box.seal('令牌 ✓')), '令牌 ✓');
  });

  test('tampering, a wrong key, a wrong context or garbage: SecretBoxError without the value', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('the-plaintext', 'row-1');
    const [version, iv, tag, ciphertext] = sealed.split(':') as [string, string, string, string];
    const flip = (part: string): string => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x80;
      return bytes.toString('base64url');
    };
    const attempts: Array<() => string> = [
      () => box.open([version, iv, tag, flip(ciphertext)].join(':'), 'row-1'),
      () => box.open([version, iv, flip(tag), ciphertext].join(':'), 'row-1'),
      () => box.open([version, flip(iv), tag, ciphertext].join(':'), 'row-1'),
      () => box.open(sealed, 'row-2'),
      () => new SecretBox(randomBytes(32)).open(sealed, 'row-1'),
      () => box.open('the-plaintext'),
      () => box.open(`v2:${iv}:${tag}:${ciphertext}`, 'row-1'),
    ];
    for (const attempt of attempts) {
      assert.throws(attempt, (error: unknown) => {
        assert.ok(error instanceof SecretBoxError);
        assert.ok(!error.message.includes('the-plaintext'));
        return true;
      });
    }
    assert.equal(box.open(sealed, 'row-1'), 'the-plaintext');
  });

  test('hash: keyed, stable, not the plain SHA-256', () => {
    const box = new SecretBox(KEY);
    assert.equal(box.hash('v'), new SecretBox(KEY).hash('v'));
    assert.notEqual(box.hash('v'), box.hash('w'));
    assert.notEqual(box.hash('v'), new SecretBox(randomBytes(32)).hash('v'));
    assert.match(box.hash('v'), /^[0-9a-f]{64}$/);
    assert.notEqual(box.hash('v'), createHash('sha256').update('v').digest('hex'));
  });

  test('needs exactly 32 key bytes, and never shows them', () => {
    assert.throws(() => new SecretBox(randomBytes(16)), RangeError);
    const box = new SecretBox(KEY);
    assert.equal(JSON.stringify(box), '{}');
    assert.ok(!JSON.stringify(Object.entries(box)).includes(KEY.toString('hex').slice(0, 8)));
  });
});

describe('loadSecretKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-isv-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('KS_ISV_SECRET_KEY in base64, base64url or hex', async () => {
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      assert.deepEqual(await loadSecretKey({ env: KEY.toString(encoding), keyFile: join(dir, 'unused.key') }), KEY);
    }
  });

  test('an invalid KS_ISV_SECRET_KEY names the variable, not its value', async () => {
    for (const env of ['too-short', randomBytes(16).toString('base64'), `${KEY.toString('hex')}00`]) {
      await assert.rejects(loadSecretKey({ env }), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /KS_ISV_SECRET_KEY/);
        assert.ok(!error.message.includes(env));
        return true;
      });
    }
  });

  test('without the variable: generates a 0600 key file (and its directory), then reads it back', async () => {
    const keyFile = join(dir, 'data', 'secret.key');
    const generated = await loadSecretKey({ env: undefined, keyFile });
    assert.equal(generated.length, 32);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(await loadSecretKey({ env: '', keyFile }), generated);
    assert.deepEqual(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64'), generated);
  });

  test('instances generating the key at once agree on one key', async () => {
    const keyFile = join(dir, 'race', 'secret.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey({ keyFile })));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.deepEqual(readdirSync(join(dir, 'race')), ['secret.key'], 'no staging files left behind');
  });

  test('a corrupt key file is an error naming the file, not a silent new key', async () => {
    const keyFile = join(dir, 'corrupt.key');
    writeFileSync(keyFile, 'not a key\n');
    await assert.rejects(loadSecretKey({ keyFile }), /corrupt\.key/);
  });
});
