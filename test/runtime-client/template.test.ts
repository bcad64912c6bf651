/**
 * The example template (`examples/template`): every JS file parses as the CommonJS a mini-program runs, the
 * JSON files and pages are complete, the bundled client in lib/ is what `npm run build:runtime-client` makes
 * of src/runtime-client now, and the app and its page, run in a bare VM context (no Node globals) with a fake
 * `ks`, go through the whole flow against a loopback server mimicking /runtime/v1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import vm from 'node:vm';
import type { KsRequestOptions } from '../../src/runtime-client/index.ts';
import { fakeKsRequest } from './fake-ks.ts';
import { APP_ID, startMimicServer, type MimicServer } from './mimic-server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const template = join(root, 'examples/template');
const BUNDLE = join(template, 'lib/ks-isv-runtime.js');
const PLACEHOLDER = 'https://isv.example.com/runtime/v1';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** Compiles a file as Node would a CommonJS module (the wrapper function), which is what a mini-program runs. */
const compileCommonJs = (path: string): vm.Script =>
  new vm.Script(`(function (exports, require, module) {${readFileSync(path, 'utf8')}\n})`, { filename: path });

describe('examples/template files', () => {
  test('every .js file is valid CommonJS script syntax', () => {
    const scripts = filesUnder(template).filter((path) => path.endsWith('.js'));
    assert.ok(scripts.length >= 3, `found ${scripts.map((path) => relative(template, path)).join(', ')}`);
    for (const path of scripts) assert.doesNotThrow(() => compileCommonJs(path), relative(template, path));
  });

  test('app.json lists pages that have their .js, .ksml, .css and .json; ext.json is an enabled ext.json', () => {
    const app = readJson(join(template, 'app.json'));
    assert.deepEqual(app.pages, ['pages/index/index']);
    for (const page of app.pages) {
      for (const ext of ['js', 'ksml', 'css', 'json']) assert.ok(statSync(join(template, `${page}.${ext}`)).isFile(), `${page}.${ext}`);
    }
    const ext = readJson(join(template, 'ext.json'));
    assert.equal(ext.extEnable, true);
    assert.equal(typeof ext.extAppId, 'string');
    assert.deepEqual(Object.keys(ext.ext as object).sort(), ['shopName', 'theme']);
    const ksml = readFileSync(join(template, 'pages/index/index.ksml'), 'utf8');
    assert.match(ksml, /<button[^>]*open-type="getPhoneNumber"[^>]*bindgetphonenumber="onPhone"/);
    assert.match(ksml, /bindtap="onLogin"[^>]*>登录</);
  });

  test('lib/ks-isv-runtime.js is up to date with src/runtime-client (else: npm run build:runtime-client)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-isv-runtime-'));
    try {
      const out = join(dir, 'ks-isv-runtime.js');
      execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/build-runtime-client.ts'), '--out', out], { cwd: root, stdio: 'pipe' });
      assert.equal(readFileSync(BUNDLE, 'utf8'), readFileSync(out, 'utf8'), 'the committed bundle differs from a fresh build: run npm run build:runtime-client');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface PageInstance {
  data: Record<string, unknown>;
  setData(patch: Record<string, unknown>): void;
  onLoad(): void;
  onLogin(): void;
  onPhone(event: { detail: Record<string, string> }): void;
  onLogout(): void;
}

interface AppInstance {
  globalData: { appId: string; ext: Record<string, unknown> };
  ready?: Promise<unknown>;
  onLaunch(): void;
}

/** Runs app.js then the index page in a fresh VM context holding only the mini-program's globals. */
function launch(server: MimicServer, extConfig: Record<string, unknown>) {
  const storage = new Map<string, string>();
  const urls: string[] = [];
  const toasts: string[] = [];
  let loginCalls = 0;
  const ks = {
    getExtConfigSync: () => extConfig,
    getStorageSync: (key: string) => storage.get(key) ?? '',
    setStorageSync: (key: string, value: string) => void storage.set(key, value),
    removeStorageSync: (key: string) => void storage.delete(key),
    login: ({ success }: { success: (result: { code: string }) => void }) => success({ code: `js-code-${++loginCalls}` }),
    showToast: ({ title }: { title: string }) => void toasts.push(title),
    request: (options: KsRequestOptions) => {
      urls.push(`${options.method} ${options.url}`);
      // The placeholder host stands for ks-isv: send it to the loopback server.
      fakeKsRequest(options, (url) => url.replace(PLACEHOLDER, server.baseUrl));
    },
  };

  let app: AppInstance | undefined;
  let page: PageInstance | undefined;
  const context = vm.createContext({
    ks,
    App: (options: AppInstance) => {
      app = options;
    },
    getApp: () => app,
    Page: (options: Omit<PageInstance, 'setData'>) => {
      page = { ...options, data: { ...options.data }, setData: (patch) => Object.assign(page!.data, patch) };
    },
  });
  const load = (path: string): unknown => {
    const module = { exports: {} as unknown };
    const localRequire = (name: string): unknown => {
      assert.equal(name, './lib/ks-isv-runtime.js', 'the example requires only the bundled client');
      return load(BUNDLE);
    };
    (compileCommonJs(path).runInContext(context) as (exports: unknown, require: unknown, module: unknown) => void)(module.exports, localRequire, module);
    return module.exports;
  };
  load(join(template, 'app.js'));
  assert.ok(app, 'app.js called App()');
  app.onLaunch();
  load(join(template, 'pages/index/index.js'));
  assert.ok(page, 'the page called Page()');
  return { app, page, storage, urls, toasts, loginCalls: () => loginCalls };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('examples/template running with a fake ks', () => {
  let server: MimicServer;
  before(async () => {
    server = await startMimicServer();
  });
  after(() => server.close());

  const ext = readJson(join(template, 'ext.json'));
  const shapes: { name: string; config: Record<string, unknown> }[] = [
    { name: 'getExtConfigSync gives the whole ext.json', config: ext },
    { name: 'getExtConfigSync gives only ext (appId inside)', config: { ...(ext.ext as object), appId: APP_ID } },
  ];

  for (const shape of shapes) {
    test(`launch, login, phone, logout, login (${shape.name})`, async () => {
      const run = launch(server, shape.config);
      const { app, page, storage } = run;
      assert.equal(app.globalData.appId, APP_ID);
      await app.ready;
      const key = `ks-isv:session:${APP_ID}`;
      assert.match(storage.get(key) ?? '', /^kss_/, 'onLaunch logged in and stored the session');

      page.onLoad();
      assert.equal(page.data.shopName, '川味小馆', 'the name from the ext config, before any call');
      await until(() => page.data.openId === 'open_user_1', 'the page to show the user');
      assert.equal(page.data.phone, '');

      page.onPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
      assert.equal(page.data.error, 'getPhoneNumber:fail user deny');
      assert.deepEqual(run.toasts, ['getPhoneNumber:fail user deny']);

      page.onPhone({ detail: { encryptedData: 'ZW5j', iv: 'aXY=' } });
      await until(() => page.data.phone === '13800138000', 'the bound phone');

      page.onLogout();
      await until(() => page.data.openId === '', 'the logout');
      assert.equal(storage.has(key), false);

      page.onLogin();
      await until(() => page.data.openId === 'open_user_1' && page.data.busy === false, 'the second login');
      assert.equal(run.loginCalls(), 2);
      assert.ok(run.urls.every((url) => url.includes(PLACEHOLDER)), 'every call goes to BASE_URL');
      assert.deepEqual(
        run.urls.map((url) => url.replace(PLACEHOLDER, '')),
        ['POST /sessions', 'GET /me', 'POST /me/phone', 'DELETE /sessions/current', 'POST /sessions', 'GET /me'],
      );
    });
  }
});
