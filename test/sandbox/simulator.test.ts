/**
 * The simulator page's own script, run (node:vm, a stub DOM of the page's data-testid elements) against a
 * real sandbox and a stand-in provider back end that does what /runtime/v1 does: R1 with the merchant's
 * token, the phone opened with the session's key. Login → /me, phone, logout, and errors shown on the page.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { KuaishouApiError, openPhoneNumber, type KuaishouPlatform } from '../../src/kuaishou/index.ts';
import type { UserRecord } from '../../src/sandbox/model.ts';
import { startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';

class StubElement {
  textContent = '';
  value = '';
  disabled = false;
  dataset: Record<string, string> = {};
  children: StubElement[] = [];
  listeners: Record<string, () => unknown> = {};
  addEventListener(type: string, listener: () => unknown): void {
    this.listeners[type] = listener;
  }
  appendChild(child: StubElement): void {
    this.children.push(child);
  }
}

interface LoadedPage {
  el(testid: string): StubElement;
  click(testid: string): Promise<void>;
  storage: Map<string, string>;
}

/** Runs the page's inline script with stubs for the few DOM calls it makes. */
function loadPage(html: string, baseUrl: string): LoadedPage {
  const elements = new Map<string, StubElement>();
  const buttons: StubElement[] = [];
  for (const match of html.matchAll(/<(\w+)[^>]*data-testid="([^"]+)"[^>]*>/g)) {
    const element = new StubElement();
    element.disabled = / disabled[ >]/.test(match[0]);
    elements.set(match[2]!, element);
    if (match[1] === 'button') buttons.push(element);
  }
  const config = new StubElement();
  config.textContent = /<script type="application\/json" id="sim-config">([^<]*)<\/script>/.exec(html)![1]!;
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const storage = new Map<string, string>();
  const el = (testid: string): StubElement => {
    const element = elements.get(testid);
    assert.ok(element, `the page has data-testid="${testid}"`);
    return element;
  };
  runInNewContext(script, {
    document: {
      getElementById: (id: string) => (id === 'sim-config' ? config : null),
      querySelector: (selector: string) => elements.get(/data-testid="([^"]+)"/.exec(selector)?.[1] ?? '') ?? null,
      querySelectorAll: () => buttons,
      createElement: () => new StubElement(),
    },
    localStorage: {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => void storage.set(key, value),
      removeItem: (key: string) => void storage.delete(key),
    },
    fetch: (input: string, init?: RequestInit) => fetch(new URL(input, baseUrl), init),
  });
  return { el, storage, click: async (testid) => void (await el(testid).listeners.click!()) };
}

describe('the simulator page, played against a stand-in provider', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  let provider: FastifyInstance;
  let appId: string;
  let user: UserRecord;
  const sessions = new Map<string, { appId: string; openId: string; sessionKey: string }>();
  let failMe = false;

  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    await sb.ticket();
    [appId] = (await sb.newApps(1)) as [string];
    await sb.authorize(appId);
    await ks.uploadCode(appId, { templateId: 1, userVersion: '1.0.0', userDesc: 'demo', ext: { shopName: '川味小馆' } });
    await ks.applyCapability(appId, { capability: 'phoneNumber' });
    await waitFor(() => (sb.sandbox.runtime.state.app(appId)?.capabilities.PHONE_NUMBER?.status === 'APPROVED' ? true : undefined));
    user = (await sb.control<UserRecord>('POST', '/users', { nickname: '小红', phoneNumber: '13912345678' })).json;

    provider = Fastify();
    const session = (authorization: string | undefined) => sessions.get((authorization ?? '').replace(/^Bearer /, ''));
    provider.post<{ Body: { appId: string; code: string } }>('/runtime/v1/sessions', async (request, reply) => {
      try {
        const answer = await ks.code2Session(request.body.appId, request.body.code);
        const sessionToken = `kss_${randomBytes(8).toString('hex')}`;
        sessions.set(sessionToken, { appId: request.body.appId, ...answer });
        return reply.code(201).send({ sessionToken, openId: answer.openId, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      } catch (error) {
        if (error instanceof KuaishouApiError) return reply.code(401).send({ error: { code: 'code_invalid', message: error.message } });
        throw error;
      }
    });
    provider.get('/runtime/v1/me', (request, reply) => {
      const found = session(request.headers.authorization);
      if (!found) return reply.code(401).send({ error: { code: 'session_invalid', message: 'log in again' } });
      if (failMe) return reply.code(403).send({ error: { code: 'merchant_not_authorized', message: 'the merchant has not authorized' } });
      return { appId: found.appId, openId: found.openId, merchant: { name: '川味小馆' }, ext: { shopName: '川味小馆' }, phone: null };
    });
    provider.post<{ Body: { encryptedData: string; iv: string } }>('/runtime/v1/me/phone', (request, reply) => {
      const found = session(request.headers.authorization);
      if (!found) return reply.code(401).send({ error: { code: 'session_invalid', message: 'log in again' } });
      return openPhoneNumber({ appId: found.appId, sessionKey: found.sessionKey, ...request.body });
    });
    provider.delete('/runtime/v1/sessions/current', (request, reply) => {
      sessions.delete((request.headers.authorization ?? '').replace(/^Bearer /, ''));
      return reply.code(204).send();
    });
    const providerUrl = await provider.listen({ port: 0, host: '127.0.0.1' });
    assert.equal((await sb.control('PUT', '/component', { runtimeUrl: `${providerUrl}/runtime/v1` })).status, 200);
  });
  after(async () => {
    await provider.close();
    await sb.close();
  });

  const open = async (): Promise<LoadedPage> => {
    const response = await sb.request(`/sandbox/apps/${appId}?version=experience`);
    assert.equal(response.status, 200);
    const page = loadPage(await response.text(), sb.url);
    assert.equal(page.el('login').disabled, false, 'runtimeUrl set: the buttons are enabled');
    return page;
  };

  test('登录 → the session token kept per app and user, /me shown; 获取手机号 → the number; 退出登录 → the session ended', async () => {
    const page = await open();
    page.el('user').value = user.userId;
    await page.click('login');
    assert.equal(page.el('error').textContent, '');
    const me = JSON.parse(page.el('me').textContent) as { openId: string; merchant: { name: string } };
    assert.equal(me.merchant.name, '川味小馆');
    assert.match(me.openId, /^[0-9a-f]{32}$/);
    const key = `ks-sim:${appId}:${user.userId}:sessionToken`;
    const token = page.storage.get(key);
    assert.match(token ?? '', /^kss_/);
    assert.equal(page.el('session').textContent, '已登录（本地保存的会话）');
    const steps = page.el('steps').children.map((child) => child.textContent);
    assert.ok(steps.some((step) => step.includes('skipped (loopback')), steps.join('\n'));
    assert.ok(!steps.join('\n').includes(sb.sandbox.runtime.state.data.users.sessions[appId]![me.openId]!.sessionKey), 'no session_key on the page');

    await page.click('phone');
    assert.equal(page.el('error').textContent, '');
    assert.equal(page.el('phone-number').textContent, '13912345678');

    await page.click('logout');
    assert.equal(page.el('result').textContent, '已退出登录');
    assert.equal(page.storage.get(key), undefined);
    assert.equal(sessions.has(token!), false, 'the provider ended it');
    await page.click('phone');
    assert.match(page.el('error').textContent, /请先登录/);
  });

  test("errors are shown: the provider's {error: {code, message}}, the sandbox's errMsg, no user picked", async () => {
    const page = await open();
    await page.click('login');
    assert.match(page.el('error').textContent, /请先选择或创建用户/);

    page.el('user').value = user.userId;
    failMe = true;
    try {
      await page.click('login');
    } finally {
      failMe = false;
    }
    assert.match(page.el('error').textContent, /GET \/me 失败：merchant_not_authorized the merchant has not authorized/);

    sb.sandbox.runtime.state.app(appId)!.capabilities.PHONE_NUMBER!.status = 'REJECTED';
    try {
      await page.click('phone');
      assert.match(page.el('error').textContent, /no_permission getPhoneNumber:fail no permission/);
    } finally {
      sb.sandbox.runtime.state.app(appId)!.capabilities.PHONE_NUMBER!.status = 'APPROVED';
    }
  });

  test('创建用户 adds the user to the picker and selects it', async () => {
    const page = await open();
    page.el('nickname').value = '新朋友';
    await page.click('create-user');
    const created = page.el('user').children.at(-1);
    assert.equal(created?.textContent.startsWith('新朋友'), true);
    assert.equal(page.el('user').value, created?.value);
    assert.equal(page.el('error').textContent, '');
  });
});
