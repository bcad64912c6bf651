/**
 * The ks-isv CLI as a user runs it: `node bin/ks-isv.js …` as a child process against a fake REST API
 * (test/cli/fake-api.ts). Every run also checks that the API key in use appears in no output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { diffRows } from '../../src/cli/domain-commands.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { frame } from '../../src/cli/progress-view.ts';
import { parseWaves } from '../../src/cli/rollout-create.ts';
import { json, KEY, NEW_KEY, snapshot, startFakeApi, type FakeApi, type Handler } from './fake-api.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; the key comes from KS_ISV_KEY unless `key: 'flag'` (then --key) or `key: 'none'`. */
function cli(url: string, args: string[], options: { key?: 'env' | 'flag' | 'none'; allowKeyInOutput?: boolean } = {}): Promise<Run> {
  const key = options.key ?? 'env';
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KS_ISV_URL: url };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  if (key === 'env') env.KS_ISV_KEY = KEY;
  const argv = key === 'flag' ? [...args, '--key', KEY] : args;
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/ks-isv.js', ...argv], { cwd: ROOT, env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (!options.allowKeyInOutput) {
        assert.ok(!stdout.includes(KEY) && !stderr.includes(KEY), `the API key leaked in the output of ${args.join(' ')}`);
      }
      resolve({ code, stdout, stderr });
    });
  });
}

async function withApi(test: (api: FakeApi) => Promise<void>, overrides: Record<string, Handler> = {}): Promise<void> {
  const api = await startFakeApi(overrides);
  try {
    await test(api);
  } finally {
    await api.close();
  }
}

function only(api: FakeApi) {
  assert.equal(api.requests.length, 1, JSON.stringify(api.requests));
  const request = api.requests[0];
  assert.ok(request);
  assert.equal(request.authorization, `Bearer ${KEY}`);
  return request;
}

const ok = (run: Run, what = ''): void => assert.equal(run.code, 0, `${what} exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);

describe('ks-isv CLI', { concurrency: 4 }, () => {
  it('rollout create sends every flag in the body', () =>
    withApi(async (api) => {
      const run = await cli(api.url, [
        'rollout', 'create', '--template', '3', '--version', '1.4.0', '--desc', 'menu', '--app', 'ks01', '--app', 'ks02,ks03',
        '--waves', '1,10%,rest', '--no-auto-release', '--max-failure-rate', '0.2', '--concurrency', '10',
      ], { key: 'flag' });
      ok(run);
      const request = only(api);
      assert.equal(`${request.method} ${request.path}`, 'POST /api/v1/rollouts');
      assert.deepEqual(request.body, {
        templateId: 3, userVersion: '1.4.0', userDesc: 'menu', targets: { appIds: ['ks01', 'ks02', 'ks03'] },
        waves: [{ count: 1 }, { percent: 10 }, { percent: 100 }], autoRelease: false, maxFailureRate: 0.2, concurrency: 10,
      });
      assert.match(run.stdout, /created rollout ro_1: 3 merchants in 2 wave\(s\)/);
      assert.match(run.stdout, /wave 1 \[░{10}\] 0\/1 released 0 · rejected 0 · failed 0/);
    }));

  it('rollout create --app-file and --q, with --json', () =>
    withApi(async (api) => {
      const dir = await mkdtemp(join(tmpdir(), 'ks-isv-cli-'));
      try {
        await writeFile(join(dir, 'apps.txt'), '# wave of bakeries\nks01\nks02, ks03\n\nks01\n');
        const fromFile = await cli(api.url, ['rollout', 'create', '--template', '1', '--version', '2.0.0', '--app-file', join(dir, 'apps.txt'), '--json']);
        ok(fromFile);
        assert.equal((JSON.parse(fromFile.stdout) as { rollout: { id: string } }).rollout.id, 'ro_1');
        const byQuery = await cli(api.url, ['rollout', 'create', '--template', '1', '--version', '2.0.0', '--q', 'bakery', '--json']);
        ok(byQuery);
        JSON.parse(byQuery.stdout);
        assert.deepEqual(api.requests.map((r) => (r.body as { targets: unknown }).targets), [{ appIds: ['ks01', 'ks02', 'ks03'] }, { q: 'bakery' }]);
        assert.deepEqual(api.requests.map((r) => (r.body as { userDesc: unknown }).userDesc), ['', '']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }));

  it('rollout create --all --watch creates, then follows the stream to the end', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['rollout', 'create', '--template', '1', '--version', '2.0.0', '--all', '--watch']);
      ok(run);
      assert.deepEqual((api.requests[0]?.body as { targets: unknown }).targets, { all: true });
      assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path}`), ['POST /api/v1/rollouts', 'GET /api/v1/rollouts/ro_1/events']);
      assert.match(run.stdout, /^created rollout ro_1 \(3 merchants\)$/m);
      assert.match(run.stdout, /rollout ro_1 completed: 3 merchants · released 3/);
    }));

  it('rollout list, show and targets build the right paths and queries', () =>
    withApi(async (api) => {
      const list = await cli(api.url, ['rollout', 'list', '--status', 'paused', '--limit', '5']);
      ok(list);
      assert.match(list.stdout, /^ID\s+STATUS\s+TEMPLATE/);
      assert.match(list.stdout, /ro_1\s+running\s+3\s+1\.4\.0\s+1\/1/);
      const show = await cli(api.url, ['rollout', 'show', 'ro_1']);
      ok(show);
      assert.match(show.stdout, /wave 1 \[██████░░░░\] 6\/10 released 5 · rejected 1 · failed 0 · in flight 4/);
      const targets = await cli(api.url, ['--json', 'rollout', 'targets', 'ro_1', '--state', 'failed']);
      ok(targets);
      assert.equal((JSON.parse(targets.stdout) as { items: { lastErrorCode: string }[] }).items[0]?.lastErrorCode, 'PLATFORM_BUSY');
      assert.deepEqual(
        api.requests.map((r) => [r.method, r.path, r.query]),
        [
          ['GET', '/api/v1/rollouts', { status: 'paused', limit: '5' }],
          ['GET', '/api/v1/rollouts/ro_1', {}],
          ['GET', '/api/v1/rollouts/ro_1/targets', { state: 'failed' }],
        ],
      );
      assert.ok(api.requests.every((r) => r.authorization === `Bearer ${KEY}`));
    }));

  it('rollout pause|resume|abort|rollback|release POST to the command path', () =>
    withApi(async (api) => {
      const commands = ['pause', 'resume', 'abort', 'rollback', 'release'];
      const runs = await Promise.all(commands.map((name) => cli(api.url, ['rollout', name, 'ro_1'])));
      runs.forEach((run) => ok(run));
      assert.match(runs[0]?.stdout ?? '', /rollout ro_1 · template 3 v1\.4\.0 · paused \(by hand\)/);
      const seen = api.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)} ${r.authorization ?? ''}`).sort();
      assert.deepEqual(seen, commands.map((name) => `POST /api/v1/rollouts/ro_1/${name} {} Bearer ${KEY}`).sort());
    }));

  it('merchants list passes filters, and --all follows nextCursor', () =>
    withApi(async (api) => {
      const all = await cli(api.url, ['merchants', 'list', '--status', 'authorized', '--q', 'shop', '--limit', '2', '--all', '--json'], { key: 'flag' });
      ok(all);
      const answer = JSON.parse(all.stdout) as { items: { appId: string }[]; nextCursor: null };
      assert.deepEqual(answer.items.map((m) => m.appId), ['ks01', 'ks02', 'ks03']);
      assert.deepEqual(api.requests.map((r) => r.query), [
        { status: 'authorized', q: 'shop', limit: '2' },
        { status: 'authorized', q: 'shop', limit: '2', cursor: 'c2' },
      ]);
      const page = await cli(api.url, ['merchants', 'list']);
      ok(page);
      assert.match(page.stdout, /^APP ID\s+NAME\s+STATUS/);
      assert.match(page.stdout, /ks01\s+川味小馆\s+authorized\s+.*1\.3\.0 passed/);
      assert.match(page.stderr, /more merchants: --all/);
      assert.deepEqual(api.requests[2]?.query, {});
    }));

  it('merchants onboard posts to the onboarding start route and says what happened', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['merchants', 'onboard', 'ks01']);
      ok(run);
      assert.equal(run.stdout, 'ks01: started, rollout ro_onb; onboarding in_progress on channel stable\n');
      assert.deepEqual(api.requests.map((r) => [r.method, r.path]), [['POST', '/api/v1/merchants/ks01/onboarding/start']]);
      const missing = await cli(api.url, ['merchants', 'onboard']);
      assert.equal(missing.code, 2, missing.stderr);
    }));

  it('keys create posts name and role and prints the new key (and only it) on stdout', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['keys', 'create', '--role', 'viewer'], { allowKeyInOutput: true });
      ok(run);
      assert.equal(run.stdout, `${NEW_KEY}\n`);
      assert.match(run.stderr, /key key_9, role viewer, "viewer key": shown once/);
      assert.ok(!(run.stdout + run.stderr).includes(KEY), 'the caller key is not printed');
      assert.deepEqual(api.requests.map((r) => [r.method, r.path, r.body, r.authorization]), [['POST', '/api/v1/keys', { name: 'viewer key', role: 'viewer' }, `Bearer ${KEY}`]]);
    }));

  it('an API error exits 1 with its code on stderr (and JSON details with --json)', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['rollout', 'pause', 'ro_done', '--json']);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^error: conflict: rollout ro_done is completed$/m);
      const line = run.stderr.split('\n').find((l) => l.startsWith('{'));
      assert.deepEqual(JSON.parse(line ?? 'null'), { error: { code: 'conflict', message: 'rollout ro_done is completed', details: { status: 'completed' }, status: 409 } });
      const unauthenticated = await cli(api.url, ['rollout', 'list'], { key: 'none' });
      assert.equal(unauthenticated.code, 1);
      assert.match(unauthenticated.stderr, /error: unauthenticated: .*\nhint: give an API key: --key or KS_ISV_KEY/);
    }));

  it('never prints the API key, even when the server echoes it', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['rollout', 'show', 'ro_echo', '--key', KEY, '--json'], { key: 'none' });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /error: invalid_request: did not like Bearer \*\*\*/);
    }));

  it('an unreachable server exits 3', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const run = await cli(`http://127.0.0.1:${port}`, ['rollout', 'list']);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /error: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('usage errors exit 2 with a hint and call nothing', () =>
    withApi(async (api) => {
      const cases: [string[], RegExp][] = [
        [[], /^usage: ks-isv <command>/],
        [['deploy'], /error: unknown command 'deploy'\nhint: commands: rollout, merchants, keys, domains/],
        [['rollout', 'list', '--bogus'], /error: unknown option --bogus\nhint: ks-isv rollout list --help/],
        [['rollout', 'show'], /error: missing <id>\nhint: usage: ks-isv rollout show <id>/],
        [['rollout', 'create', '--template', '1', '--version', '1.0.0'], /error: choose the merchants: --all/],
      ];
      const runs = await Promise.all(cases.map(([args]) => cli(api.url, args)));
      runs.forEach((run, index) => {
        const [args, expected] = cases[index] ?? [[], /./];
        assert.equal(run.code, 2, `${args.join(' ')}: exit ${run.code} ${run.stderr}`);
        assert.equal(run.stdout, '', `${args.join(' ')}: nothing on stdout`);
        assert.match(run.stderr, expected, `${args.join(' ')}: ${run.stderr}`);
      });
      assert.equal(api.requests.length, 0);
      const help = await cli(api.url, ['rollout', 'create', '--help']);
      ok(help);
      assert.match(help.stdout, /^usage: ks-isv rollout create --template <id>/);
      assert.match(help.stdout, /--no-auto-release/);
    }));

  it('domains plan|apply: exit 4 when the server has no domain-policy API; plan follows the pages; apply starts a rollout', async () => {
    await withApi(async (api) => {
      const run = await cli(api.url, ['domains', 'plan', '--server-request', 'https://api.example.com', '--all']);
      assert.equal(run.code, 4);
      assert.match(run.stderr, /^error: not available on this server \(404 from \/api\/v1\/domain-policies\)$/m);
      assert.deepEqual(api.requests[0]?.body, { targets: { all: true }, serverDomains: { request: ['https://api.example.com'] }, dryRun: true, limit: 500 });
    });
    const pages: Handler = (req, res) => {
      const body = req.body as { cursor?: string };
      const summary = { targets: 3, checked: body.cursor ? 1 : 2, inSync: body.cursor ? 0 : 1, drifting: body.cursor ? 0 : 1, unreadable: body.cursor ? 1 : 0, errors: {} };
      json(res, 200, body.cursor
        ? { policy: {}, summary, items: [{ appId: 'ks03', inSync: false, error: { code: 'PERMISSION_DENIED', message: 'permission set 2 not granted' } }], nextCursor: null }
        : {
          policy: {},
          summary,
          items: [
            { appId: 'ks01', inSync: false, server: { request: { add: ['https://api.example.com'], remove: ['https://old.example.com'] } }, webview: { add: ['https://h5.example.com'], remove: [] }, error: null },
            { appId: 'ks02', inSync: true, server: { request: { add: [], remove: [] } }, webview: { add: [], remove: [] }, error: null },
          ],
          nextCursor: 'ks02',
        });
    };
    await withApi(async (api) => {
      const run = await cli(api.url, ['domains', 'plan', '--server-request', 'https://api.example.com', '--webview', 'https://h5.example.com', '--app', 'ks01,ks02', '--app', 'ks03']);
      ok(run);
      assert.deepEqual(api.requests.map((r) => r.body), [
        { targets: { appIds: ['ks01', 'ks02', 'ks03'] }, serverDomains: { request: ['https://api.example.com'] }, webviewDomains: ['https://h5.example.com'], dryRun: true, limit: 500 },
        { targets: { appIds: ['ks01', 'ks02', 'ks03'] }, serverDomains: { request: ['https://api.example.com'] }, webviewDomains: ['https://h5.example.com'], dryRun: true, limit: 500, cursor: 'ks02' },
      ]);
      assert.match(run.stdout, /ks01\s+\+\s+request\s+https:\/\/api\.example\.com/);
      assert.match(run.stdout, /ks01\s+-\s+request\s+https:\/\/old\.example\.com/);
      assert.match(run.stdout, /ks01\s+\+\s+webview\s+https:\/\/h5\.example\.com/);
      assert.match(run.stdout, /ks02\s+=\s+\(in sync\)/);
      assert.match(run.stdout, /ks03\s+!\s+PERMISSION_DENIED\s+permission set 2 not granted/);
      assert.match(run.stdout, /3 merchant\(s\): 1 in sync · 1 would change · 1 unreadable \(dry run: nothing changed\)/);
    }, { 'POST /api/v1/domain-policies': pages });
    const created: Handler = (_req, res) => {
      const answer = snapshot('ro_dom', 'running', [{ size: 2, counts: { pending: 2 } }]);
      json(res, 201, { ...answer, rollout: { ...answer.rollout, kind: 'domains', templateId: null, userVersion: null, userDesc: null } });
    };
    await withApi(async (api) => {
      const run = await cli(api.url, ['domains', 'apply', '--server-socket', 'wss://ws.example.com', '--webview', 'https://h5.example.com', '--q', 'shop', '--concurrency', '5']);
      ok(run);
      assert.deepEqual(api.requests[0]?.body, { targets: { q: 'shop' }, serverDomains: { socket: ['wss://ws.example.com'] }, webviewDomains: ['https://h5.example.com'], dryRun: false, concurrency: 5 });
      assert.match(run.stdout, /created domain rollout ro_dom: 2 merchants in 1 wave\(s\)/);
      assert.match(run.stdout, /follow it: ks-isv rollout watch ro_dom/);
      const usage = await cli(api.url, ['domains', 'apply', '--all']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /error: give at least one --server-request/);
    }, { 'POST /api/v1/domain-policies': created });
  });

  it('runtime users|stats: exit 4 when the server has no merchant runtime; the query sent; the page as a table', async () => {
    await withApi(async (api) => {
      const users = await cli(api.url, ['runtime', 'users', 'ks01']);
      assert.equal(users.code, 4);
      assert.match(users.stderr, /^error: not available on this server \(404 from GET \/api\/v1\/merchants\/:appId\/users\)$/m);
      const stats = await cli(api.url, ['runtime', 'stats', 'ks01']);
      assert.equal(stats.code, 4);
      assert.match(stats.stderr, /^error: not available on this server \(404 from GET \/api\/v1\/merchants\/:appId\/runtime\)$/m);
    });
    const page: Handler = (_req, res) =>
      json(res, 200, { items: [{ openId: 'o_1', firstSeenAt: 0, lastSeenAt: 0, hasPhone: true, phoneBoundAt: 0 }, { openId: 'o_2', firstSeenAt: 0, lastSeenAt: 0, hasPhone: false, phoneBoundAt: null }], nextCursor: 'o_2' });
    await withApi(async (api) => {
      const run = await cli(api.url, ['runtime', 'users', 'ks01', '--limit', '2', '--cursor', 'o_0']);
      ok(run);
      assert.equal(api.requests[0]?.path, '/api/v1/merchants/ks01/users');
      assert.deepEqual(api.requests[0]?.query, { limit: '2', cursor: 'o_0' });
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^OPEN ID\s+FIRST SEEN\s+LAST SEEN\s+PHONE$/);
      assert.match(lines[1] ?? '', /^o_1\s.*\syes$/);
      assert.match(lines[2] ?? '', /^o_2\s.*\sno$/);
      assert.match(run.stderr, /\(more users: --all, or --cursor o_2\)/);
    }, { 'GET /api/v1/merchants/ks01/users': page });
  });

  it('rollout watch prints one line per change when not a TTY: exit 0 completed, 5 aborted or with failures', () =>
    withApi(async (api) => {
      const [completed, aborted, failed] = await Promise.all([
        cli(api.url, ['rollout', 'watch', 'ro_1']),
        cli(api.url, ['rollout', 'watch', 'ro_aborted']),
        cli(api.url, ['rollout', 'watch', 'ro_failed']),
      ]);
      ok(completed);
      assert.deepEqual(completed.stdout.trimEnd().split('\n'), [
        'ro_1 running · wave 1/2 0/1 · total 0/3 · released 0 · rejected 0 · failed 0',
        'ro_1 running · wave 2/2 0/2 · total 1/3 · released 1 · rejected 0 · failed 0 · in flight 2',
        'ro_1 completed · wave 2/2 2/2 · total 3/3 · released 3 · rejected 0 · failed 0',
        'rollout ro_1 completed: 3 merchants · released 3 · rejected 0 · failed 0',
      ]);
      assert.equal(aborted.code, 5, aborted.stderr);
      assert.match(aborted.stdout, /rollout ro_aborted aborted: 4 merchants · released 1 · rejected 0 · failed 0 · skipped 3/);
      assert.equal(failed.code, 5, failed.stderr);
      assert.match(failed.stdout, /failed: ks-isv rollout targets ro_failed --state failed/);
    }));

  it('rollout watch --json prints NDJSON; a dropped stream is reconnected once', () =>
    withApi(async (api) => {
      const run = await cli(api.url, ['rollout', 'watch', 'ro_drop', '--json']);
      ok(run);
      const lines = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { event: string; rollout?: { status: string }; status?: string });
      assert.deepEqual(lines.map((l) => [l.event, l.rollout?.status ?? l.status]), [['progress', 'running'], ['progress', 'completed'], ['end', 'completed']]);
      assert.match(run.stderr, /reconnecting/);
      assert.equal(api.requests.filter((r) => r.path === '/api/v1/rollouts/ro_drop/events').length, 2);
      const flaky = await cli(api.url, ['rollout', 'watch', 'ro_flaky']);
      assert.equal(flaky.code, 3, flaky.stderr);
      assert.match(flaky.stderr, /error: lost the event stream of rollout ro_flaky/);
      const missing = await cli(api.url, ['rollout', 'watch', 'ro_missing']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /error: not_found: rollout not found/);
    }));

  it('parses waves, draws wave bars and domain diffs (in process)', () => {
    assert.deepEqual(parseWaves('1,10%,rest'), [{ count: 1 }, { percent: 10 }, { percent: 100 }]);
    assert.deepEqual(parseWaves('5, 50% ,100%'), [{ count: 5 }, { percent: 50 }, { percent: 100 }]);
    for (const bad of ['0', 'rest,1', '150%', '0%', '', '1.5']) assert.throws(() => parseWaves(bad), UsageError, bad);
    const lines = frame(snapshot('ro_9', 'running', [{ size: 10, counts: { released: 5, rejected: 1, pending: 4 } }, { size: 3, counts: { pending: 3 } }]));
    assert.deepEqual(lines, [
      'rollout ro_9 · template 3 v1.4.0 · running · wave 1/2',
      'wave 1 [██████░░░░] 6/10 released 5 · rejected 1 · failed 0',
      'wave 2 [░░░░░░░░░░] 0/3 released 0 · rejected 0 · failed 0',
    ]);
    assert.deepEqual(diffRows([{ appId: 'a', inSync: false, server: { udp: { add: ['udp://x.example.com'], remove: [] } }, webview: null, error: null }, { appId: 'b', inSync: true, error: null }]), [
      ['a', '+', 'udp', 'udp://x.example.com'],
      ['b', '=', '', '(in sync)'],
    ]);
    const domains = frame({ ...snapshot('ro_d', 'completed', [{ size: 2, counts: { applied: 1, failed: 1 } as Record<string, number> }]) });
    assert.deepEqual(domains.slice(1), ['wave 1 [██████████] 2/2 applied 1 · released 0 · rejected 0 · failed 1']);
  });
});
