/**
 * KS_ENDPOINTS_FILE: read and checked when the configuration is read, so a bad file stops the start with a
 * message naming the row (`npm run serve` exits 2 with it on stderr), and a good one reaches the client.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, serverConfigFromEnv } from '../../src/server/config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'component-secret-not-to-show';
const BASE = { KS_COMPONENT_APP_ID: 'a', KS_COMPONENT_APP_SECRET: SECRET, KS_MESSAGE_TOKEN: 't', KS_MESSAGE_KEY: 'k'.repeat(43) };
const dir = mkdtempSync(join(tmpdir(), 'ks-isv-endpoints-file-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('not set: no overrides; a good file: the rows by operation name', () => {
  assert.deepEqual(serverConfigFromEnv(BASE).kuaishou.endpointOverrides, {});
  const good = file('good.json', JSON.stringify({ A7: { path: '/openapi/mp/auth/app/package/v2/versions' }, getCapabilityStatus: { method: 'POST' } }));
  assert.deepEqual(serverConfigFromEnv({ ...BASE, KS_ENDPOINTS_FILE: good }).kuaishou.endpointOverrides, {
    getVersions: { path: '/openapi/mp/auth/app/package/v2/versions' },
    getCapabilityStatus: { method: 'POST' },
  });
});

const BAD: [string, string, RegExp][] = [
  ['unknown-row.json', JSON.stringify({ A42: { path: '/x' } }), /^KS_ENDPOINTS_FILE: A42: unknown row/],
  ['other-key.json', JSON.stringify({ A7: { path: '/x', encode: 'query' } }), /^KS_ENDPOINTS_FILE: A7: only "path" and "method"/],
  ['bad-method.json', JSON.stringify({ A11: { method: 'DELETE' } }), /^KS_ENDPOINTS_FILE: A11: "method" must be "GET" or "POST"/],
  ['relative.json', JSON.stringify({ getVersions: { path: 'openapi/versions' } }), /^KS_ENDPOINTS_FILE: getVersions: "path" must start with "\/"/],
  ['query.json', JSON.stringify({ A12: { path: '/openapi/list?all=1' } }), /^KS_ENDPOINTS_FILE: A12: "path" must not contain "\?"/],
  ['fragment.json', JSON.stringify({ A12: { path: '/openapi/list#x' } }), /^KS_ENDPOINTS_FILE: A12: "path" must not contain "\?" or "#"/],
  ['space.json', JSON.stringify({ A6: { path: '/openapi/qr code' } }), /^KS_ENDPOINTS_FILE: A6: "path" must not contain whitespace/],
  ['dots.json', JSON.stringify({ A6: { path: '/openapi/../admin' } }), /^KS_ENDPOINTS_FILE: A6: "path" must not contain "\.\."/],
  ['array.json', '[]', /^KS_ENDPOINTS_FILE: the overrides must be a JSON object/],
  ['not-json.json', '{ A7: ', /^KS_ENDPOINTS_FILE: ".*not-json\.json" is not JSON$/],
];

for (const [name, text, message] of BAD) {
  test(`a bad file stops the configuration: ${name}`, () => {
    const path = file(name, text);
    assert.throws(() => serverConfigFromEnv({ ...BASE, KS_ENDPOINTS_FILE: path }), (error: unknown) => error instanceof ConfigError && message.test(error.message) && !error.message.includes(SECRET));
  });
}

test('a missing file: named, with the reason', () => {
  const path = join(dir, 'absent.json');
  assert.throws(() => serverConfigFromEnv({ ...BASE, KS_ENDPOINTS_FILE: path }), (error: unknown) => error instanceof ConfigError && error.message === `KS_ENDPOINTS_FILE: cannot read "${path}" (ENOENT)`);
});

test('the server does not start on a bad file: exit 2, the row named on stderr', async () => {
  const path = file('start.json', JSON.stringify({ A7: { path: '/ok' }, A3: { path: 'upload' } }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...BASE, PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'never.db')}`, KS_ENDPOINTS_FILE: path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2, output);
  assert.match(output, /ks-isv: KS_ENDPOINTS_FILE: A3: "path" must start with "\/"/);
  assert.ok(!output.includes(SECRET));
  assert.ok(!output.includes('    at '), 'no stack trace');
});
