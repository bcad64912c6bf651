/**
 * `ks-isv probe` end to end: the CLI as a child process against the real server (SQLite), itself against
 * the sandbox or against a double that renames a field of A7 and answers 404 on A2. Exit codes, the
 * table, the stable `--json`, and no secret in anything the CLI or the service wrote.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from '../../src/kuaishou/index.ts';
import { RENAMED, startPlatformDouble, type PlatformDouble } from '../helpers/platform-double.ts';
import { authorizeMerchant } from '../helpers/rest.ts';
import { startSandbox, type SandboxHarness } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = 'ks0000000000000001';
const sqlite = dialectTargets().find((target) => target.name === 'sqlite')!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(stack: Stack, args: string[], key = stack.keys.admin, url = stack.url): Promise<Run> {
  return new Promise((resolve) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KS_ISV_URL: url, KS_ISV_KEY: key };
    execFile(process.execPath, ['bin/ks-isv.js', ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      assert.ok(!stdout.includes(key) && !stderr.includes(key), 'the API key never shows');
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

async function merchantWithDevVersion(stack: Stack): Promise<void> {
  await authorizeMerchant(stack, APP);
  const upload = await stack.api('POST', `/api/v1/merchants/${APP}/code`, { body: { templateId: 1, userVersion: '1.0.0', userDesc: 'probe' } });
  assert.equal(upload.status, 200, JSON.stringify(upload.json));
}

/** Every secret in play on `stack`'s sandbox: the component's, the message key and token, the merchant's pair. */
function secretsOf(stack: Stack): Record<string, string> {
  const state = stack.sandbox.sandbox.runtime.state;
  const pair = state.data.credentials.livePairs[APP];
  assert.ok(pair, 'the merchant has a live pair');
  return {
    componentSecret: state.component.componentAppSecret,
    messageKey: state.component.messageKey,
    messageToken: state.component.messageToken,
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
  };
}

function assertNoSecret(stack: Stack, texts: string[]): void {
  const haystack = [...texts, stack.logs.join('\n')].join('\n');
  for (const [name, value] of Object.entries(secretsOf(stack))) assert.ok(!haystack.includes(value), `${name} appears nowhere`);
}

describe('ks-isv probe against the server', { skip: sqlite.skip, timeout: 120_000 }, () => {
  after(() => sqlite.cleanup());

  describe('on the sandbox', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(sqlite);
      await stack.ready();
      await merchantWithDevVersion(stack);
    });
    after(() => stack.close());

    test('--json: every row confirmed, exit 0; two runs print the same JSON; no secret anywhere', async () => {
      const first = await cli(stack, ['probe', '--app', APP, '--json']);
      assert.equal(first.code, 0, first.stderr);
      const report = JSON.parse(first.stdout) as ProbeReport;
      assert.ok(report.rows.every((row) => row.outcome === 'confirmed'), first.stdout);
      assert.equal(report.rows.length, 10);
      const second = await cli(stack, ['--json', 'probe', '--app', APP]);
      assert.equal(second.code, 0);
      assert.equal(second.stdout, first.stdout, 'the report has no timing field: identical');
      assertNoSecret(stack, [first.stdout, first.stderr, second.stdout, second.stderr]);
    });

    test('the table: one line per row, the summary; without --app the merchant rows are not tried', async () => {
      const run = await cli(stack, ['probe', '--app', APP]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^ROW\s+OPERATION\s+CALL\s+SOURCE\s+OUTCOME$/m);
      assert.match(run.stdout, /^A7\s+getVersions\s+GET \/openapi\/mp\/auth\/app\/package\/versions\s+inferred\s+confirmed$/m);
      assert.match(run.stdout, /^A11\s+getCapabilityStatus phoneNumber\s+GET \S+\s+inferred\s+confirmed$/m);
      assert.match(run.stdout, /^10 confirmed · 0 differ · 0 refused · 0 not tried$/m);

      const bare = await cli(stack, ['probe']);
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(bare.stdout, /no merchant \(--app <appId>/);
      assert.match(bare.stdout, /^A7\s+getVersions\s+.*not tried$/m);
      assert.match(bare.stdout, /^A7 getVersions not tried: no merchant given/m);
      assert.match(bare.stdout, /^2 confirmed · 0 differ · 0 refused · 8 not tried$/m);
      assertNoSecret(stack, [run.stdout, run.stderr, bare.stdout, bare.stderr]);
    });

    test('usage and API errors keep the usual exit codes', async () => {
      const extra = await cli(stack, ['probe', APP]);
      assert.equal(extra.code, 2);
      assert.match(extra.stderr, /error: unexpected argument 'ks0000000000000001'/);
      const badApp = await cli(stack, ['probe', '--app', 'ks 1']);
      assert.equal(badApp.code, 2);
      const unknown = await cli(stack, ['probe', '--app', 'ks_nobody']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /error: merchant_not_found: merchant ks_nobody not found/);
      const operator = await cli(stack, ['probe'], stack.keys.operator);
      assert.equal(operator.code, 1);
      assert.match(operator.stderr, /error: forbidden: this needs the admin role/);
      const unauthenticated = await cli(stack, ['probe'], 'ksk_not_a_real_key_000000');
      assert.equal(unauthenticated.code, 1);
      assert.match(unauthenticated.stderr, /error: unauthenticated/);
      const unreachable = await cli(stack, ['probe'], stack.keys.admin, 'http://127.0.0.1:1');
      assert.equal(unreachable.code, 3);
      const help = await cli(stack, ['probe', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^usage: ks-isv probe \[--app <appId>\]/);
      const main = await cli(stack, ['--help']);
      assert.match(main.stdout, /^ {2}probe\s+which endpoint rows hold/m);
    });
  });

  describe('on a double', () => {
    let sandbox: SandboxHarness;
    let double: PlatformDouble;
    let stack: Stack;
    before(async () => {
      sandbox = await startSandbox();
      double = await startPlatformDouble(sandbox.url);
      stack = await startStack(sqlite, { sharedSandbox: sandbox, env: { KS_BASE_URL: double.url } });
      const registered = await sandbox.control('PUT', '/component', { authEventUrl: `${stack.url}/callbacks/auth`, messageUrl: `${stack.url}/callbacks/events` });
      assert.equal(registered.status, 200);
      await stack.ready();
      await merchantWithDevVersion(stack);
    });
    after(async () => {
      await stack.close();
      await double.close();
      await sandbox.close();
    });

    test('exit 1; the table and the JSON name the renamed field of A7 and the 404 of A2, nothing else', async () => {
      const run = await cli(stack, ['probe', '--app', APP]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout, /^A7\s+getVersions\s+.*differs$/m);
      assert.match(run.stdout, /^A2\s+webviewDomains\s+.*differs$/m);
      assert.match(run.stdout, /^A7 getVersions differs: "data" is missing or not what the table reads \(HTTP 200\)$/m);
      assert.match(run.stdout, new RegExp(`^ {4}seen: +.*\\b${RENAMED.to}\\b`, 'm'));
      assert.match(run.stdout, /^ {4}expected: +data, data\.audit\?/m);
      assert.match(run.stdout, /^ {4}mismatched: data$/m);
      assert.match(run.stdout, /^A2 webviewDomains differs: HTTP 404 on POST \/openapi\/mp\/auth\/app\/webview_domain/m);
      assert.match(run.stdout, /^8 confirmed · 2 differ · 0 refused · 0 not tried$/m);

      const json = await cli(stack, ['probe', '--app', APP, '--json']);
      assert.equal(json.code, 1);
      const report = JSON.parse(json.stdout) as ProbeReport;
      assert.deepEqual(report.rows.filter((row) => row.outcome !== 'confirmed').map((row) => row.id), ['A2', 'A7']);
      const versions = report.rows.find((row) => row.id === 'A7');
      assert.deepEqual(versions?.details.mismatchedFields, ['data']);
      assert.equal(json.stderr, '', 'a probe that ran is not an error: nothing on stderr');
      assertNoSecret(stack, [run.stdout, run.stderr, json.stdout, json.stderr]);
    });
  });
});
