/**
 * The admin console's files at `/`: content types, caching of hashed assets, the single-page app's
 * index.html for browser navigations outside the API, JSON 404s for everything of the server's, and a
 * plain message when the console is not built.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authorizeMerchant } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const [sqlite] = dialectTargets();
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the console at /', { skip: sqlite!.skip }, () => {
  let stack: Stack;
  let unbuilt: Stack;
  const dir = mkdtempSync(join(tmpdir(), 'ks-console-'));
  const empty = mkdtempSync(join(tmpdir(), 'ks-console-empty-'));

  before(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("console")');
    writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dir, '.built'), '');
    stack = await startStack(sqlite!, { consoleDir: dir });
    unbuilt = await startStack(sqlite!, { consoleDir: empty });
  });
  after(async () => {
    await stack?.close();
    await unbuilt?.close();
    await sqlite!.cleanup();
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  test('/ is index.html, revalidated on every load', async () => {
    const page = await stack.api('GET', '/', { key: null, headers: HTML });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.bytes.toString('utf8'), INDEX);
  });

  test('files with their content type; hashed assets cached for a year', async () => {
    const script = await stack.api('GET', '/assets/index-abc123.js', { key: null });
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(script.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(script.bytes.toString('utf8'), 'console.log("console")');
    const style = await stack.api('GET', '/assets/index-abc123.css', { key: null });
    assert.equal(style.headers.get('content-type'), 'text/css; charset=utf-8');
    const icon = await stack.api('GET', '/favicon.svg', { key: null });
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal(icon.headers.get('cache-control'), 'no-cache');
    const head = await fetch(`${stack.url}/assets/index-abc123.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String('console.log("console")'.length));
  });

  test("a browser navigating to a console page gets index.html; other clients and the server's paths get JSON 404s", async () => {
    for (const path of ['/merchants', '/merchants/ks0000000000000001', '/rollouts/abc?tab=failures']) {
      const page = await stack.api('GET', path, { key: null, headers: HTML });
      assert.equal(page.status, 200, path);
      assert.equal(page.bytes.toString('utf8'), INDEX, path);
    }
    for (const [path, headers] of [
      ['/merchants', {}],
      ['/assets/missing-123.js', HTML],
      ['/api/v1/nope', HTML],
      ['/api', HTML],
      ['/callbacks/nope', HTML],
      ['/docs/nope.html', {}],
    ] as const) {
      const answer = await stack.api('GET', path, { key: null, headers });
      assert.equal(answer.status, 404, path);
      assert.equal((answer.json as { error: { code: string } }).error.code, 'not_found', path);
    }
    const post = await stack.api('POST', '/merchants', { key: null, headers: HTML, body: {} });
    assert.equal(post.status, 404);
  });

  test('files carry validators: a revalidation of an unchanged file is a 304 without a body', async () => {
    // Over inject, as a browser revalidates: fetch() turns a request with If-None-Match into a no-cache one.
    for (const url of ['/', '/assets/index-abc123.js']) {
      const first = await stack.service.app.inject({ method: 'GET', url, headers: HTML });
      const etag = first.headers.etag;
      assert.equal(typeof etag, 'string', `${url}: an ETag`);
      assert.ok(first.headers['last-modified'], `${url}: a Last-Modified`);
      const again = await stack.service.app.inject({ method: 'GET', url, headers: { ...HTML, 'if-none-match': String(etag) } });
      assert.equal(again.statusCode, 304, url);
      assert.equal(again.rawPayload.length, 0, url);
      assert.equal(again.headers['cache-control'], first.headers['cache-control'], url);
    }
  });

  test('nothing outside the build is served, nor its dotfiles', async () => {
    const stamp = await stack.api('GET', '/.built', { key: null });
    assert.equal(stamp.status, 404);
    assert.equal((stamp.json as { error: { code: string } }).error.code, 'not_found');
    for (const path of ['/%2e%2e/package.json', '/..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json']) {
      const answer = await stack.api('GET', path, { key: null });
      assert.ok(!answer.bytes.toString('utf8').includes('"name": "ks-isv"'), path);
      assert.ok([400, 404].includes(answer.status), `${path}: ${answer.status}`);
    }
  });

  test('the API, its documents and the probes are unchanged', async () => {
    assert.equal((await stack.api('GET', '/api/v1/merchants')).status, 200);
    assert.equal((await stack.api('GET', '/api/v1/merchants', { key: null, headers: HTML })).status, 401);
    assert.equal((await stack.api('GET', '/openapi.json', { key: null, headers: HTML })).status, 200);
    assert.equal((await stack.api('GET', '/healthz', { key: null, headers: HTML })).status, 200);
    const docs = await stack.api('GET', '/docs', { key: null, headers: HTML });
    assert.equal(docs.status, 200);
    assert.match(docs.bytes.toString('utf8'), /swagger-ui/i);
  });

  test("GET /api/v1/me and the merchants list's sort, audit filters and total over REST", async () => {
    const me = await stack.api('GET', '/api/v1/me', { key: stack.keys.viewer });
    assert.equal(me.status, 200);
    assert.equal((me.json as { role: string }).role, 'viewer');

    await stack.ready();
    const apps = ['ks0000000000000001', 'ks0000000000000002', 'ks0000000000000003'];
    for (const app of apps) await authorizeMerchant(stack, app);
    // One of them is submitted for audit: it leaves the "never audited" set.
    assert.equal((await stack.api('POST', `/api/v1/merchants/${apps[1]}/code`, { body: { templateId: 1, userVersion: '3.0.0', extJson: {} } })).status, 200);
    assert.equal((await stack.api('POST', `/api/v1/merchants/${apps[1]}/audit`)).status, 200);

    type Listing = { items: { appId: string }[]; nextCursor: string | null; total?: number };
    const list = async (query: string) => {
      const answer = await stack.api<Listing>('GET', `/api/v1/merchants?${query}`, { key: stack.keys.viewer });
      assert.equal(answer.status, 200, `${query}: ${JSON.stringify(answer.json)}`);
      return answer.json;
    };
    const newest = await list('sort=authorizedAt&order=desc&limit=2&total=true');
    assert.deepEqual(newest.items.map((m) => m.appId), [apps[2], apps[1]]);
    assert.equal(newest.total, 3);
    const rest = await list(`sort=authorizedAt&order=desc&limit=2&cursor=${newest.nextCursor}`);
    assert.deepEqual(rest.items.map((m) => m.appId), [apps[0]]);
    assert.equal(rest.total, undefined, 'no total unless asked');
    const never = await list('auditState=none&total=true');
    assert.deepEqual(never.items.map((m) => m.appId), [apps[0], apps[2]]);
    assert.equal(never.total, 2);
    assert.deepEqual((await list('auditVersion=3.0.0')).items.map((m) => m.appId), [apps[1]]);
  });

  test('without a build, / says so plainly and the API still works', async () => {
    const page = await unbuilt.api('GET', '/', { key: null, headers: HTML });
    assert.equal(page.status, 503);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.bytes.toString('utf8'), /npm run build:web/);
    assert.equal((await unbuilt.api('GET', '/merchants', { key: null, headers: HTML })).status, 503);
    assert.equal((await unbuilt.api('GET', '/api/v1/merchants')).status, 200);
  });
});
