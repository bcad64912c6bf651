/**
 * `ks-isv merchants ext <appId>`: the CLI as a child process against the real server (SQLite) and the
 * sandbox — the ext.json an upload would send, addressed to the merchant, with its custom config and app
 * config; and what the sandbox then stores for an upload is that document.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { authorizeMerchant, sandboxApp } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = 'ks0000000000000002';
const sqlite = dialectTargets().find((target) => target.name === 'sqlite')!;

function cli(stack: Stack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KS_ISV_URL: stack.url, KS_ISV_KEY: stack.keys.viewer };
    execFile(process.execPath, ['bin/ks-isv.js', ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('ks-isv merchants ext', { skip: sqlite.skip }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack(sqlite);
    await stack.ready();
    await authorizeMerchant(stack, APP);
    const template = await stack.api('PUT', '/api/v1/templates/1/ext', { body: { ext: { theme: 'red' }, appConfig: { window: { navigationBarTitleText: '小店' } }, baseVersion: 0 } });
    assert.equal(template.status, 200, JSON.stringify(template.json));
    const merchant = await stack.api('PUT', `/api/v1/merchants/${APP}/ext`, { body: { templateId: 1, overrides: { shopName: '老北京' }, baseVersion: 0 } });
    assert.equal(merchant.status, 200, JSON.stringify(merchant.json));
  });
  after(async () => {
    await stack?.close();
    await sqlite.cleanup();
  });

  test('prints the assembled ext.json (--json: the preview route answer); an upload then stores exactly it', async () => {
    const expected = { extEnable: true, extAppId: APP, ext: { theme: 'red', shopName: '老北京' }, window: { navigationBarTitleText: '小店' } };
    const text = await cli(stack, ['merchants', 'ext', APP, '--template', '1']);
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(JSON.parse(text.stdout), expected);
    const json = await cli(stack, ['merchants', 'ext', APP, '--template', '1', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { appId: APP, templateId: 1, extJson: expected });

    const upload = await stack.api('POST', `/api/v1/merchants/${APP}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', userDesc: 'preview' } });
    assert.equal(upload.status, 200, JSON.stringify(upload.json));
    assert.deepEqual(JSON.parse((await sandboxApp(stack, APP)).versions.dev?.ext_json ?? 'null'), expected);
  });

  test('an unknown merchant or a bad template id: a clear error and a non-zero exit', async () => {
    const unknown = await cli(stack, ['merchants', 'ext', 'ks_nobody']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /merchant_not_found/);
    const bad = await cli(stack, ['merchants', 'ext', APP, '--template', 'abc']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /template/);
  });
});
