/**
 * The admin console in headless Chromium (Debian's, driven by playwright-core) against `npm start` on its
 * embedded defaults — the sandbox and the server on SQLite in a temporary DATA_DIR, on free ports: sign in
 * with the printed admin key → invite a merchant → authorize it on the sandbox page → it is listed → a
 * rollout to all merchants → progress reaches done → the merchant's QR code is shown → a viewer key sees
 * no release button, nor any channel or policy button; a `stable` channel put through the channels page
 * and the merchant's onboarding card with its dry run; the ext.json panel (template defaults, the custom config
 * and the app config saved apart, the upload preview, refusals named, a stale save); a sandbox user logged in
 * through the runtime shown in the merchant's 小程序用户 card, the simulator link, a runtime key on the keys page. A screenshot of each page goes to test-artifacts/console/. `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { openBrowser, ROOT, startProduct, stopProduct, type Started } from './harness.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
// The sticky top bar would cover part of an element scrolled under it in the element's screenshot.
const UNSTICK = '.top { position: static !important; }';

describe('the admin console in Chromium', () => {
  let product: Started | undefined;
  let context: BrowserContext;
  let profile = '';
  let page: Page;
  const dataDir = mkdtempSync(join(tmpdir(), 'ks-console-data-'));
  let appId = '';

  const shot = async (name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    // No layout break at 1280×800: nothing wider than the window.
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    assert.ok(width <= 1280, `${name}: the page is ${width}px wide at 1280px`);
  };

  const api = async <T>(method: string, path: string, body?: unknown, key = product!.adminKey): Promise<T> => {
    const response = await fetch(`${product!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(response.ok, `${method} ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };

  const signIn = async (key: string) => {
    await page.goto(`${product!.url}/`);
    await page.getByLabel('API Key').fill(key);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByTestId('role').waitFor();
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    product = await startProduct(dataDir);
    ({ context, profile } = await openBrowser());
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await context?.close();
    await stopProduct(product);
    rmSync(dataDir, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('sign in with the printed admin key (zh-CN by default)', async () => {
    await page.goto(`${product!.url}/`);
    assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-CN');
    await shot('01-sign-in');
    await page.getByLabel('API Key').fill('ksk_not_a_key');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').waitFor();
    await signIn(product!.adminKey);
    assert.equal(await page.getByTestId('role').textContent(), '管理员');
    await page.getByRole('heading', { name: '概览', level: 1 }).waitFor();
    await shot('02-dashboard');
  });

  test('invite a merchant; it authorizes on the sandbox page and appears in the list', async () => {
    await page.getByRole('link', { name: '邀请商家' }).click();
    await page.getByTestId('create-invite').click();
    const link = await page.getByTestId('invite-link').inputValue();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\//);
    await page.getByText('有效期至').waitFor();
    await shot('03-invite');

    const merchantPage = await context.newPage();
    await merchantPage.goto(link);
    await merchantPage.getByRole('button', { name: '登录' }).click();
    appId = await merchantPage.locator('input[name="app_id"]:checked').inputValue();
    await merchantPage.getByRole('button', { name: '确认授权' }).click();
    await merchantPage.waitForURL((url) => url.pathname.startsWith('/callbacks/authorize'));
    await merchantPage.close();

    await page.getByRole('link', { name: '商家', exact: true }).click();
    for (let i = 0; i < 60 && !(await page.getByRole('link', { name: appId }).isVisible()); i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    await page.getByRole('link', { name: appId }).waitFor();
    await shot('04-merchants');
  });

  test('a rollout to all merchants reaches done, with live progress', async () => {
    // Bulk selection on the merchants page opens the wizard with that selection…
    await page.getByLabel(`选择 ${appId}`).check();
    await page.getByTestId('rollout-selection').click();
    await page.getByRole('heading', { name: '新建批量发布', level: 1 }).waitFor();
    assert.ok(await page.getByRole('radio', { name: /所选的 1 个商家/ }).isChecked());
    await page.getByTestId('target-preview').filter({ hasText: '将影响 1 个商家' }).waitFor();
    // …and this one goes to all merchants.
    await page.getByRole('link', { name: '批量发布', exact: true }).click();
    await page.getByTestId('new-rollout').click();
    await page.getByRole('radio', { name: '全部已授权商家' }).check();
    await page.getByTestId('target-preview').filter({ hasText: '将影响 1 个商家' }).waitFor();
    // One merchant: one wave.
    while ((await page.getByRole('button', { name: /删除第 \d+ 批/ }).count()) > 0) await page.getByRole('button', { name: /删除第 \d+ 批/ }).first().click();
    await shot('05-rollout-new');
    await page.getByTestId('start-rollout').click();
    await page.getByTestId('plan').waitFor();
    assert.match((await page.getByTestId('plan').textContent()) ?? '', /1 个商家/);
    await shot('06-rollout-plan');
    await page.getByTestId('watch-rollout').click();
    await page.locator('[data-testid="rollout-status"][data-status="completed"]').waitFor({ state: 'attached', timeout: 120_000 });
    const bar = page.getByRole('progressbar', { name: '总体进度' });
    assert.equal(await bar.getAttribute('aria-valuenow'), await bar.getAttribute('aria-valuemax'));
    await page.getByRole('cell', { name: '已发布' }).waitFor();
    await shot('07-rollout-done');
    await page.getByRole('link', { name: /批量发布/ }).first().click();
    await shot('08-rollouts');
  });

  test("the merchant's page shows its versions and the experience QR code", async () => {
    await page.goto(`${product!.url}/merchants/${appId}`);
    const qr = page.getByTestId('qrcode');
    await qr.waitFor();
    // The image decoded: the PNG fetched with the key, shown through a blob: URL.
    const decoded = "(() => { const img = document.querySelector('[data-testid=qrcode]'); return img !== null && img.complete && img.naturalWidth > 0; })()";
    await page.waitForFunction(decoded);
    assert.ok(Number(await page.evaluate("document.querySelector('[data-testid=qrcode]').naturalWidth")) > 0);
    assert.match((await qr.getAttribute('src')) ?? '', /^blob:/);
    await page.getByTestId('version-online').filter({ hasText: /\d/ }).waitFor();
    assert.equal(await page.getByTestId('action-release').count(), 1, 'an admin sees the release button');
    await shot('09-merchant');
  });

  test('the other pages render, and English is one switch away', async () => {
    await page.getByRole('link', { name: '模板', exact: true }).click();
    await page.getByRole('heading', { name: '模板', level: 1 }).waitFor();
    await shot('10-templates');
    // Domain policies: a wrong domain is refused before anything is sent; a dry run shows the drift.
    await page.getByRole('link', { name: '域名策略', exact: true }).click();
    await page.getByLabel('request 合法域名').fill('http://api.example.com');
    await page.getByText('不是有效的 https:// 域名').waitFor();
    assert.ok(await page.getByRole('button', { name: '预览差异' }).isDisabled());
    await page.getByLabel('request 合法域名').fill('https://api.example.com');
    await page.getByRole('button', { name: '预览差异' }).click();
    await page.getByTestId('drift').getByRole('link', { name: appId }).waitFor();
    await page.getByText('https://api.example.com').first().waitFor();
    await shot('11-domain-policies');
    await page.getByRole('link', { name: '操作日志', exact: true }).click();
    await page.getByRole('heading', { name: '操作日志', level: 1 }).waitFor();
    await shot('12-audit-log');
    await page.getByRole('cell', { name: 'rollout.create' }).first().waitFor();
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'en');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await shot('13-dashboard-en');
    await page.getByLabel('Language').selectOption('zh-CN');
  });

  test('a stable channel put through the channels page; the merchant page shows its onboarding card', async () => {
    await page.getByRole('link', { name: '发布渠道', exact: true }).click();
    await page.getByRole('heading', { name: '发布渠道', level: 1 }).waitFor();
    await page.getByTestId('onboarding-policy').waitFor();
    await page.getByTestId('new-channel').click();
    await page.locator('#channel-new-name').fill('Stable');
    await page.getByText('小写字母开头').waitFor();
    assert.ok(await page.getByTestId('save-channel').isDisabled(), 'a bad name is refused before anything is sent');
    await page.locator('#channel-new-name').fill('stable');
    await page.locator('#channel-new-ext').fill('[1, 2]');
    await page.getByText('必须是 JSON 对象').waitFor();
    assert.ok(await page.getByTestId('save-channel').isDisabled(), 'ext defaults that are not an object are refused');
    await page.locator('#channel-new-ext').fill('{"theme": "light"}');
    await page.getByTestId('save-channel').click();
    await page.getByTestId('channel-saved').waitFor();
    await page.getByTestId('channels-table').getByText('stable').waitFor();
    const stored = await api<{ name: string; version: number; extDefaults: unknown; domainPolicy: unknown }>('GET', '/api/v1/channels/stable');
    assert.deepEqual([stored.version, stored.extDefaults, stored.domainPolicy], [1, { theme: 'light' }, null]);
    await shot('15-channels');

    await page.goto(`${product!.url}/merchants/${appId}`);
    const card = page.getByTestId('onboarding-card');
    await card.getByRole('heading', { name: '开通进度' }).waitFor();
    const detail = await api<{ onboarding: { status: string } }>('GET', `/api/v1/merchants/${appId}`);
    const shown: Record<string, string> = { none: '未开通', blocked: '已阻塞', starting: '启动中', in_progress: '进行中', live: '已上线', failed: '失败', disabled: '已关闭' };
    assert.equal(await page.getByTestId('onboarding-status').textContent(), shown[detail.onboarding.status]);
    await page.getByTestId('onboarding-dry-run').click();
    const plan = page.getByTestId('onboarding-plan');
    await plan.waitFor();
    await plan.getByText('stable').first().waitFor();
    await card.screenshot({ path: join(ARTIFACTS, '16-onboarding-card.png') });

    // Another merchant authorizes without set 1 (development): its onboarding stops, said in plain words.
    await page.getByRole('link', { name: '邀请商家' }).click();
    await page.getByTestId('create-invite').click();
    const link = await page.getByTestId('invite-link').inputValue();
    const merchantPage = await context.newPage();
    await merchantPage.goto(link);
    await merchantPage.locator('#merchant').selectOption({ index: 1 });
    await merchantPage.getByRole('button', { name: '登录' }).click();
    const blockedAppId = await merchantPage.locator('input[name="app_id"]:checked').inputValue();
    assert.notEqual(blockedAppId, appId);
    await merchantPage.locator('input[name="permission"][value="1"]').uncheck();
    await merchantPage.getByRole('button', { name: '确认授权' }).click();
    await merchantPage.waitForURL((url) => url.pathname.startsWith('/callbacks/authorize'));
    await merchantPage.close();
    await page.goto(`${product!.url}/merchants/${blockedAppId}`);
    for (let i = 0; i < 60 && (await page.getByTestId('onboarding-status').textContent()) !== '已阻塞'; i++) {
      await page.waitForTimeout(500);
      await page.reload();
      await page.getByTestId('onboarding-status').waitFor();
    }
    assert.equal(await page.getByTestId('onboarding-status').textContent(), '已阻塞');
    await page.getByTestId('onboarding-missing').getByText('权限集 1：开发管理').waitFor();
    await page.getByTestId('onboarding-reason').waitFor();
    await page.getByTestId('onboarding-card').screenshot({ path: join(ARTIFACTS, '17-onboarding-blocked.png') });
    // "立即开通" (onboard now) runs the decision again, through a confirmation: still blocked, and why.
    await page.getByTestId('onboarding-start').click();
    await page.getByRole('dialog').getByRole('button', { name: '立即开通' }).click();
    await page.getByTestId('onboarding-start-result').getByText('仍被阻止 (missing_permissions)').waitFor();
    const retried = await api<{ items: { action: string; appId: string | null }[] }>('GET', `/api/v1/audit-log?appId=${blockedAppId}&limit=50`);
    assert.ok(retried.items.some((entry) => entry.action === 'onboarding.retry'), 'the console\'s start is in the audit log');

    // The stuck list (its own query: no other filter or sort goes with it) has that merchant, not the live one.
    await page.getByRole('link', { name: '商家', exact: true }).click();
    await page.getByTestId('onboarding-filter').selectOption('stuck');
    await page.getByText('阻塞、失败或进行超过 30 分钟').waitFor();
    await page.getByTestId('merchants-table').getByRole('link', { name: blockedAppId }).waitFor();
    assert.equal(await page.getByTestId('merchants-table').getByRole('link', { name: appId, exact: true }).count(), 0);
    assert.equal(await page.getByRole('alert').count(), 0, 'no error from the stuck list');
  });

  test("the merchant's ext.json: custom config and app config saved apart, the upload preview, refusals named", async () => {
    type ExtView = { templateId: number; version: number; overrides: Record<string, unknown>; appConfigOverrides: Record<string, unknown> };
    type Preview = { extJson: { extEnable: boolean; extAppId: string; ext: Record<string, unknown>; tabBar?: { color?: string; list?: { pagePath: string; text?: string }[] }; pages?: string[] } };
    const { templateId } = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);

    // The template's defaults on the templates page: a tab bar every merchant inherits.
    await page.getByRole('link', { name: '模板', exact: true }).click();
    await page.getByTestId(`template-ext-open-${templateId}`).click();
    const defaults = page.getByTestId('template-ext');
    await defaults.getByRole('heading', { name: `模板 ${templateId} 的 ext.json 默认值` }).waitFor();
    const tabBar = { color: '#666666', list: [{ pagePath: 'pages/index/index', text: '首页' }, { pagePath: 'pages/me/index', text: '我的' }] };
    await page.locator('#template-ext-app-config').fill(JSON.stringify({ tabBar }));
    await page.getByTestId('template-ext-app-config-save').click();
    await page.getByTestId('template-ext-app-config-saved').waitFor();
    const template = await api<{ ext: unknown; appConfig: unknown; version: number }>('GET', `/api/v1/templates/${templateId}/ext`);
    assert.deepEqual(template.appConfig, { tabBar });
    await defaults.screenshot({ path: join(ARTIFACTS, '18-template-ext.png'), style: UNSTICK });

    await page.goto(`${product!.url}/merchants/${appId}`);
    const panel = page.getByTestId('ext-panel');
    await panel.getByRole('heading', { name: 'ext.json 配置' }).waitFor();
    const preview = panel.getByTestId('ext-preview');
    await preview.filter({ hasText: '我的' }).waitFor();
    const shown = async (): Promise<Preview['extJson']> => JSON.parse((await preview.textContent()) ?? '') as Preview['extJson'];

    // App config: one tab's text, for this merchant only (the tab list merges by pagePath).
    const before = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);
    const tabOverride = { tabBar: { list: [{ pagePath: 'pages/me/index', text: '会员中心' }] } };
    await panel.getByRole('group', { name: /小程序配置/ }).getByLabel('商家覆盖（JSON）').fill(JSON.stringify(tabOverride));
    await page.getByTestId('ext-app-config-save').click();
    await page.getByTestId('ext-app-config-saved').waitFor();
    await preview.filter({ hasText: '会员中心' }).waitFor();
    const sent = await shown();
    assert.equal(sent.extEnable, true);
    assert.equal(sent.extAppId, appId, 'the preview is for this merchant');
    assert.deepEqual(sent.tabBar, { color: '#666666', list: [{ pagePath: 'pages/index/index', text: '首页' }, { pagePath: 'pages/me/index', text: '会员中心' }] });
    assert.deepEqual(sent, (await api<Preview>('GET', `/api/v1/merchants/${appId}/ext/preview?templateId=${templateId}`)).extJson, 'the panel shows what the API says an upload sends');
    const afterAppConfig = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);
    assert.deepEqual([afterAppConfig.version, afterAppConfig.appConfigOverrides, afterAppConfig.overrides], [before.version + 1, tabOverride, before.overrides], 'only the app config was sent');

    // Custom config on its own: the app config is kept.
    await page.locator('#ext-overrides').fill('{"shopName": "一号店"}');
    await page.getByTestId('ext-overrides-save').click();
    await page.getByTestId('ext-overrides-saved').waitFor();
    await preview.filter({ hasText: '一号店' }).waitFor();
    assert.equal((await shown()).ext.shopName, '一号店');
    const afterCustom = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);
    assert.deepEqual([afterCustom.version, afterCustom.appConfigOverrides, afterCustom.overrides], [before.version + 2, tabOverride, { shopName: '一号店' }]);
    await panel.screenshot({ path: join(ARTIFACTS, '19-ext-panel.png'), style: UNSTICK });

    // An unknown app config field: refused by the server, the field named, nothing saved.
    await page.locator('#ext-app-config').fill(JSON.stringify({ ...tabOverride, themeColor: '#fe3666' }));
    await page.getByTestId('ext-app-config-save').click();
    const refused = page.getByTestId('ext-app-config-refused');
    await refused.getByText('“themeColor” 不是 ext.json 的字段').waitFor();
    assert.match((await refused.textContent()) ?? '', /app_config_unknown_field/);
    await panel.screenshot({ path: join(ARTIFACTS, '20-ext-refused.png'), style: UNSTICK });
    const unchanged = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);
    assert.deepEqual([unchanged.version, unchanged.appConfigOverrides], [afterCustom.version, tabOverride], 'nothing was saved');

    // Not JSON / not an object: said before anything is sent.
    await page.locator('#ext-app-config').fill('[1, 2]');
    await panel.getByText('必须是 JSON 对象。').waitFor();
    assert.ok(await page.getByTestId('ext-app-config-save').isDisabled());

    // Valid alone, invalid assembled: pages narrowed to one, while the inherited tab bar names another.
    await page.locator('#ext-app-config').fill(JSON.stringify({ ...tabOverride, pages: ['pages/index/index'] }));
    await page.getByTestId('ext-app-config-save').click();
    await page.getByTestId('ext-app-config-saved').waitFor();
    const invalid = panel.getByTestId('ext-preview-invalid');
    await invalid.getByText('字段 tabBar.list').waitFor();
    assert.equal(await preview.count(), 0, 'no document is shown for an invalid one');
    await page.locator('#ext-app-config').fill(JSON.stringify(tabOverride));
    await page.getByTestId('ext-app-config-save').click();
    await preview.filter({ hasText: '会员中心' }).waitFor();

    // Someone else saves meanwhile: the console's save is refused as stale, and a reload shows theirs.
    const current = await api<ExtView>('GET', `/api/v1/merchants/${appId}/ext`);
    await api('PUT', `/api/v1/merchants/${appId}/ext`, { templateId, overrides: { shopName: '二号店' }, baseVersion: current.version });
    await page.locator('#ext-app-config').fill(JSON.stringify({ tabBar: { list: [{ pagePath: 'pages/me/index', text: '我的会员' }] } }));
    await page.getByTestId('ext-app-config-save').click();
    await page.getByTestId('ext-app-config-conflict').getByRole('button', { name: '重新加载' }).click();
    await page.getByTestId('ext-overrides-effective').filter({ hasText: '二号店' }).waitFor();
    assert.equal(await page.getByTestId('ext-app-config-conflict').count(), 0);
    await preview.filter({ hasText: '二号店' }).waitFor();
  });

  test("the merchant's mini-program users, the simulator link, and a runtime key on the keys page", async () => {
    const platform = await api<{ baseUrl: string; sandbox: boolean; simulatorUrl: string | null }>('GET', '/api/v1/platform');
    assert.equal(platform.sandbox, true, 'npm start speaks to its sandbox');
    const simulator = platform.simulatorUrl?.replace('{appId}', appId) ?? '';
    assert.ok(platform.simulatorUrl?.includes('{appId}') && simulator.startsWith(platform.baseUrl.replace(/\/+$/, '')), String(platform.simulatorUrl));

    // No one has logged in yet: the card says so and points at the simulator.
    await page.goto(`${product!.url}/merchants/${appId}`);
    const card = page.getByTestId('runtime-card');
    await card.getByRole('heading', { name: '小程序用户' }).waitFor();
    await card.getByTestId('runtime-empty').getByText('还没有用户登录过这个小程序。').waitFor();
    assert.equal(await card.getByTestId('runtime-users').textContent(), '0');
    assert.equal(await card.getByTestId('runtime-phone-share').textContent(), '—');
    assert.equal(await card.getByTestId('runtime-simulator-link').getAttribute('href'), simulator);

    // A Kuaishou user of the sandbox logs in through the runtime (ks.login's code → POST /runtime/v1/sessions).
    const post = async <T>(url: string, body: unknown, status: number): Promise<T> => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await response.text();
      assert.equal(response.status, status, `POST ${url}: ${text}`);
      return JSON.parse(text) as T;
    };
    const sandboxApi = `${platform.baseUrl.replace(/\/+$/, '')}/sandbox/api`;
    const { userId } = await post<{ userId: string }>(`${sandboxApi}/users`, { nickname: '控制台测试用户' }, 201);
    const { code } = await post<{ code: string }>(`${sandboxApi}/apps/${appId}/login`, { userId }, 200);
    const session = await post<{ openId: string; sessionToken: string }>(`${product!.url}/runtime/v1/sessions`, { appId, code }, 201);

    await page.reload();
    await card.getByTestId('runtime-user').first().waitFor();
    assert.equal(await card.getByTestId('runtime-users').textContent(), '1');
    assert.equal(await card.getByTestId('runtime-phone-share').textContent(), '0%');
    assert.equal(await card.getByTestId('runtime-sessions').textContent(), '1');
    assert.match((await card.getByTestId('runtime-last-login').textContent()) ?? '', /\d/);
    assert.equal(await card.getByTestId('runtime-user').count(), 1);
    await card.getByTestId('runtime-user').getByText(session.openId).waitFor();
    assert.equal(await card.getByText('已绑定手机号', { exact: true }).count(), 0, 'no badge for a user without a phone');
    assert.equal(await card.getByTestId('runtime-more').count(), 0, 'one page only');
    assert.equal(await card.getByTestId('runtime-empty').count(), 0);

    // The experience QR code's version in the simulator: a new tab, no opener.
    const link = page.getByTestId('simulator-link');
    assert.equal(await link.textContent(), '在模拟器中打开');
    assert.equal(await link.getAttribute('href'), `${simulator}?version=experience`);
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match((await link.getAttribute('rel')) ?? '', /\bnoopener\b/);
    await shot('21-merchant-runtime');

    // The user binds a phone (getPhoneNumber, once the capability is approved): 100 % and the badge.
    await api('POST', `/api/v1/merchants/${appId}/capabilities/phone-number`, { reason: 'login by phone' });
    for (let i = 0; i < 60; i++) {
      const detail = await api<{ capabilities: { capability: string; status: string }[] }>('GET', `/api/v1/merchants/${appId}`);
      if (detail.capabilities.some((entry) => entry.capability === 'phone-number' && entry.status === 'approved')) break;
      await page.waitForTimeout(500);
    }
    const sealed = await post<{ encryptedData: string; iv: string }>(`${sandboxApi}/apps/${appId}/phone`, { userId }, 200);
    const bound = await fetch(`${product!.url}/runtime/v1/me/phone`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.sessionToken}` },
      body: JSON.stringify(sealed),
    });
    assert.equal(bound.status, 200, await bound.text());
    await page.reload();
    await card.getByTestId('runtime-user').getByText('已绑定手机号', { exact: true }).waitFor();
    assert.equal(await card.getByTestId('runtime-phone-share').textContent(), '100%');
    await card.screenshot({ path: join(ARTIFACTS, '22-runtime-card.png'), style: UNSTICK });

    // The keys page: a runtime key for the business back end, listed with its role.
    await page.getByRole('link', { name: 'API Key', exact: true }).click();
    await page.getByRole('heading', { name: 'API Key', level: 1 }).waitFor();
    await page.getByTestId('keys-table').waitFor();
    await page.getByLabel('名称').fill('业务后端');
    await page.getByLabel('角色').selectOption('runtime');
    await page.getByTestId('key-role-hint').filter({ hasText: '/runtime/v1' }).waitFor();
    await page.getByTestId('key-create-submit').click();
    const created = page.getByTestId('key-created');
    await created.waitFor();
    const secret = await page.getByTestId('key-secret').inputValue();
    assert.match(secret, /^ksk_/);
    await created.getByText('运行时（业务后端）').waitFor();
    const row = page.getByTestId('keys-table').getByRole('row').filter({ hasText: '业务后端' }).filter({ has: page.locator('[data-role="runtime"]') });
    await row.waitFor();
    assert.equal(await row.locator('[data-role]').textContent(), '运行时（业务后端）');
    const listed = await api<{ items: { name: string; role: string }[] }>('GET', '/api/v1/keys');
    assert.ok(listed.items.some((key) => key.name === '业务后端' && key.role === 'runtime'));
    // It is the business back end's: no /api/v1 route for it.
    assert.equal((await fetch(`${product!.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).status, 403);
    await shot('23-keys');
  });

  test('a viewer key cannot see the release button (nor any other action)', async () => {
    const viewer = await api<{ key: string }>('POST', '/api/v1/keys', { name: 'console viewer', role: 'viewer' });
    await page.getByRole('button', { name: '退出' }).click();
    await signIn(viewer.key);
    assert.equal(await page.getByTestId('role').textContent(), '只读');
    assert.equal(await page.getByRole('link', { name: 'API Key', exact: true }).count(), 0, 'no keys page for a viewer');
    await page.goto(`${product!.url}/merchants/${appId}`);
    await page.getByTestId('runtime-users').filter({ hasText: '1' }).waitFor();
    await page.getByTestId('version-online').filter({ hasText: /\d/ }).waitFor();
    await page.getByTestId('qrcode').waitFor();
    assert.equal(await page.getByTestId('action-release').count(), 0);
    assert.equal(await page.getByTestId('action-upload').count(), 0);
    assert.equal(await page.getByRole('button', { name: '保存服务器域名' }).count(), 0);
    // The ext.json panel: both parts and the preview to read, nothing to save.
    await page.getByTestId('ext-preview').filter({ hasText: appId }).waitFor();
    assert.equal(await page.getByTestId('ext-overrides-save').count(), 0);
    assert.equal(await page.getByTestId('ext-app-config-save').count(), 0);
    assert.notEqual(await page.locator('#ext-app-config').getAttribute('readonly'), null, 'the app config is read-only');
    await shot('14-merchant-viewer');
    await page.getByRole('link', { name: '商家', exact: true }).click();
    await page.getByRole('link', { name: appId }).waitFor();
    assert.equal(await page.getByTestId('rollout-selection').count(), 0);
    await page.getByRole('link', { name: '批量发布', exact: true }).click();
    await page.getByRole('heading', { name: '批量发布', level: 1 }).waitFor();
    assert.equal(await page.getByTestId('new-rollout').count(), 0);
    // Channels: read-only for a viewer (a channel opens to view, with no save button).
    await page.getByRole('link', { name: '发布渠道', exact: true }).click();
    await page.getByTestId('open-channel-stable').click();
    await page.getByTestId('channel-editor').waitFor();
    assert.equal(await page.getByTestId('new-channel').count(), 0);
    assert.equal(await page.getByTestId('save-channel').count(), 0);
    assert.equal(await page.getByTestId('save-policy').count(), 0);
    // Template defaults: open to read, no save button.
    await page.getByRole('link', { name: '模板', exact: true }).click();
    await page.locator('[data-testid^="template-ext-open-"]').first().click();
    await page.locator('#template-ext-app-config').waitFor();
    assert.equal(await page.getByTestId('template-ext-custom-save').count(), 0);
    assert.equal(await page.getByTestId('template-ext-app-config-save').count(), 0);
  });
});
