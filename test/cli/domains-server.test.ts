/**
 * `ks-isv domains plan|apply` end to end: the CLI as a child process against the real server (SQLite) and
 * the sandbox, so the CLI and POST /api/v1/domain-policies agree on the request and the answers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dialectTargets } from '../store/dialects.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { authorizeMerchant, sandboxApp } from '../helpers/rest.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sqlite = dialectTargets().find((target) => target.name === 'sqlite')!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('ks-isv domains against the server', { skip: sqlite.skip }, () => {
  let stack: Stack;
  let apps: string[];

  const cli = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KS_ISV_URL: stack.url, KS_ISV_KEY: stack.keys.operator };
      execFile(process.execPath, ['bin/ks-isv.js', ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
        assert.ok(!stdout.includes(stack.keys.operator) && !stderr.includes(stack.keys.operator), 'the key never shows');
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });

  before(async () => {
    stack = await startStack(sqlite, { env: { KS_RATE_LIMIT_PER_SEC: '500' } });
    await stack.ready();
    const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 2 });
    apps = created.json.merchants.flatMap((m) => m.appIds).sort();
    for (const appId of apps) await authorizeMerchant(stack, appId);
    const set = await stack.api('POST', `/api/v1/merchants/${apps[0]}/domains/webview`, { key: stack.keys.operator, body: { action: 'set', domains: ['https://h5.example.com'] } });
    assert.equal(set.status, 200);
  });

  after(async () => {
    await stack?.close();
    await sqlite.cleanup();
  });

  test('plan shows the diff, apply --watch brings every merchant to the policy (exit 0)', async () => {
    const [first, second] = apps as [string, string];
    const plan = await cli(['domains', 'plan', '--webview', 'https://h5.example.com', '--server-request', 'https://api.example.com', '--app', `${first},${second}`]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, new RegExp(`${first}\\s+\\+\\s+request\\s+https://api\\.example\\.com`));
    assert.match(plan.stdout, new RegExp(`${second}\\s+\\+\\s+webview\\s+https://h5\\.example\\.com`));
    assert.doesNotMatch(plan.stdout, new RegExp(`${first}\\s+\\+\\s+webview`), 'the first merchant has its webview domain already');
    assert.match(plan.stdout, /2 merchant\(s\): 0 in sync · 2 would change · 0 unreadable/);

    const apply = await cli(['domains', 'apply', '--webview', 'https://h5.example.com', '--server-request', 'https://api.example.com', '--app', first, '--app', second, '--watch']);
    assert.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
    assert.match(apply.stdout, /created domain rollout ro_\w+ \(2 merchants\)/);
    assert.match(apply.stdout, /rollout ro_\w+ completed: 2 merchants · applied 2 · released 0 · rejected 0 · failed 0/);
    for (const appId of apps) {
      const app = await sandboxApp(stack, appId);
      assert.deepEqual(app.serverDomains.request, ['https://api.example.com']);
      assert.deepEqual(app.webviewDomains, ['https://h5.example.com']);
    }

    const again = await cli(['domains', 'plan', '--webview', 'https://h5.example.com', '--server-request', 'https://api.example.com', '--app', first, '--app', second, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { summary: unknown }).summary, { targets: 2, inSync: 2, drifting: 0, unreadable: 0 });

    const bad = await cli(['domains', 'apply', '--webview', 'https://h5.elsewhere.test', '--all']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: invalid_request: domains: h5\.elsewhere\.test is not one of the component's registered domains/);
  });
});
