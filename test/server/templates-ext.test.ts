/**
 * Templates and ext config over the REST API on a real stack: the library synced from the sandbox, template
 * defaults and merchant overrides (round trip, deep merge, validation, version conflicts, history), and
 * uploads — rollouts and manual — that carry the merchant's effective ext, as the sandbox saw it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, auditLog, authorizeMerchant, extJsonOf, keyIdOf, sandboxApp } from '../helpers/rest.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

interface TemplateItem {
  templateId: number;
  userVersion: string;
  userDesc: string;
  createdAt: number;
  syncedAt: number;
}
interface TemplateExt {
  templateId: number;
  ext: Record<string, unknown>;
  appConfig: Record<string, unknown>;
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}
interface MerchantExt {
  appId: string;
  templateId: number;
  defaults: Record<string, unknown>;
  overrides: Record<string, unknown>;
  effective: Record<string, unknown>;
  appConfigDefaults: Record<string, unknown>;
  appConfigOverrides: Record<string, unknown>;
  effectiveAppConfig: Record<string, unknown>;
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}
interface History {
  items: { templateId: number; appId: string | null; version: number; document: Record<string, unknown>; actorKeyId: string | null; at: number }[];
  nextCursor: string | null;
}
interface RolloutAnswer {
  rollout: { id: string; status: string };
  progress: { byState: Record<string, number> };
}

const APPS = ['ks0000000000000001', 'ks0000000000000002', 'ks0000000000000003', 'ks0000000000000004'];
const [A, B, C, D] = APPS as [string, string, string, string];

for (const dialect of dialectTargets()) {
  describe(`templates and ext config on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    let operator: string;

    const putDefaults = (templateId: number, ext: unknown, baseVersion: number, key = stack.keys.operator) =>
      stack.api<TemplateExt>('PUT', `/api/v1/templates/${templateId}/ext`, { key, body: { ext, baseVersion } });
    const putOverrides = (appId: string, templateId: number, overrides: unknown, baseVersion: number) =>
      stack.api<MerchantExt>('PUT', `/api/v1/merchants/${appId}/ext`, { key: stack.keys.operator, body: { templateId, overrides, baseVersion } });
    const merchantExt = async (appId: string, templateId?: number): Promise<MerchantExt> => {
      const answer = await stack.api<MerchantExt>('GET', `/api/v1/merchants/${appId}/ext${templateId === undefined ? '' : `?templateId=${templateId}`}`, { key: stack.keys.viewer });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      return answer.json;
    };

    before(async () => {
      stack = await startStack(dialect, { sandbox: { component: { auditDelayMs: 50 } }, env: { KS_RATE_LIMIT_PER_SEC: '500' } });
      await stack.ready();
      for (const appId of APPS) await authorizeMerchant(stack, appId);
      operator = keyIdOf(stack.keys.operator);
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('the library is synced from the platform: on demand, and a template added on the sandbox shows after a sync', async () => {
      // Nobody asked yet: the background jobs synced it once a ticket was there.
      await waitFor(async () => ((await stack.service.store.templates.list()).length === 2 ? true : undefined), { timeoutMs: 5000, what: 'the boot sync' });
      const first = await stack.api<{ items: TemplateItem[] }>('GET', '/api/v1/templates', { key: stack.keys.viewer });
      assert.equal(first.status, 200);
      assert.deepEqual(first.json.items.map((t) => t.templateId), [1, 2]);
      const added = await stack.sandbox.control<{ templateId: number }>('POST', '/templates', { userVersion: '3.0.0', userDesc: '外卖模板' });
      assert.equal(added.status, 201);
      const stale = await stack.api<{ items: TemplateItem[] }>('GET', '/api/v1/templates', { key: stack.keys.viewer });
      assert.deepEqual(stale.json.items.map((t) => t.templateId), [1, 2], 'listed from the store: not yet synced');

      const before = Date.now();
      const synced = await stack.api<{ items: TemplateItem[] }>('POST', '/api/v1/templates/sync', { key: stack.keys.operator });
      assert.equal(synced.status, 200, JSON.stringify(synced.json));
      const third = synced.json.items.find((t) => t.templateId === added.json.templateId);
      assert.deepEqual(third && { userVersion: third.userVersion, userDesc: third.userDesc }, { userVersion: '3.0.0', userDesc: '外卖模板' });
      assert.ok(synced.json.items.every((t) => t.syncedAt >= before && t.createdAt > 0));
      assert.deepEqual((await stack.api<{ items: TemplateItem[] }>('GET', '/api/v1/templates')).json.items, synced.json.items);
      const entry = (await auditLog(stack, 'action=templates.sync'))[0];
      assert.deepEqual([entry?.actorKeyId, entry?.result], [operator, 'ok']);
    });

    test('without a templateId a merchant’s ext is the newest synced template’s', async () => {
      const newest = (await stack.api<{ items: TemplateItem[] }>('GET', '/api/v1/templates')).json.items.reduce((a, b) => (b.createdAt > a.createdAt || (b.createdAt === a.createdAt && b.templateId > a.templateId) ? b : a));
      const view = await merchantExt(A);
      assert.deepEqual(view, {
        appId: A,
        templateId: newest.templateId,
        defaults: {},
        overrides: {},
        effective: {},
        appConfigDefaults: {},
        appConfigOverrides: {},
        effectiveAppConfig: {},
        version: 0,
        updatedAt: null,
        updatedBy: null,
      });
    });

    test('defaults and overrides round trip; the effective document is their deep merge', async () => {
      const defaults = { shopName: '默认小店', theme: { color: 'red', font: { size: 12, family: 'sans' } }, tabs: ['home', 'menu', 'me'], coupons: true };
      const put = await putDefaults(1, defaults, 0);
      assert.equal(put.status, 200, JSON.stringify(put.json));
      assert.deepEqual({ ...put.json, updatedAt: null }, { templateId: 1, ext: defaults, appConfig: {}, version: 1, updatedAt: null, updatedBy: operator });
      assert.equal(typeof put.json.updatedAt, 'number');
      assert.deepEqual((await stack.api<TemplateExt>('GET', '/api/v1/templates/1/ext', { key: stack.keys.viewer })).json, put.json);

      const overrides = { shopId: 'shop-a', theme: { font: { size: 14 } }, tabs: ['home'], coupons: null };
      const saved = await putOverrides(A, 1, overrides, 0);
      assert.equal(saved.status, 200, JSON.stringify(saved.json));
      const effective = { shopName: '默认小店', shopId: 'shop-a', theme: { color: 'red', font: { size: 14, family: 'sans' } }, tabs: ['home'] };
      assert.deepEqual(saved.json.effective, effective);
      assert.deepEqual([saved.json.version, saved.json.updatedBy, saved.json.defaults, saved.json.overrides], [1, operator, defaults, overrides]);
      assert.deepEqual(await merchantExt(A, 1), saved.json);

      // New defaults reach every merchant's effective document; the overrides' version does not move.
      const v2 = await putDefaults(1, { ...defaults, theme: { color: 'green', font: { size: 12, family: 'serif' } } }, 1);
      assert.equal(v2.json.version, 2);
      const after = await merchantExt(A, 1);
      assert.deepEqual(after.effective.theme, { color: 'green', font: { size: 14, family: 'serif' } });
      assert.equal(after.version, 1);
      assert.deepEqual((await merchantExt(B, 1)).effective, v2.json.ext, 'no overrides: the defaults');

      const log = await auditLog(stack, `appId=${A}`);
      assert.deepEqual([log[0]?.action, log[0]?.result, log[0]?.summary], ['merchant.ext.update', 'ok', { templateId: 1, baseVersion: 0, parts: ['ext'] }]);
    });

    test('bad documents are refused with a clear code, and nothing stored changes', async () => {
      const stored = async () => ({
        defaults: (await stack.api('GET', '/api/v1/templates/1/ext')).json,
        merchant: await merchantExt(A, 1),
        history: (await stack.api('GET', `/api/v1/merchants/${A}/ext/history?templateId=1`)).json,
        log: (await auditLog(stack)).length,
      });
      const before = await stored();
      const deep = JSON.parse(`${'{"a":'.repeat(11)}1${'}'.repeat(11)}`) as unknown;
      for (const [overrides, status, code] of [
        [[1, 2], 400, 'invalid_request'],
        ['{"shopId":1}', 400, 'invalid_request'],
        [null, 400, 'invalid_request'],
        [{ blob: 'x'.repeat(40_000) }, 400, 'ext_too_large'],
        [deep, 400, 'ext_too_deep'],
        [{ constructor: 'x' }, 400, 'ext_invalid'],
      ] as const) {
        assertError(await putOverrides(A, 1, overrides, 1), status, code, JSON.stringify(overrides).slice(0, 40));
        assertError(await putDefaults(1, overrides, 2), status, code, JSON.stringify(overrides).slice(0, 40));
      }
      assertError(await putOverrides(A, 999, {}, 1), 404, 'template_not_found');
      assertError(await putOverrides('ks_nobody', 1, {}, 0), 404, 'merchant_not_found');
      assertError(await putDefaults(999, {}, 0), 404, 'template_not_found');
      assertError(await stack.api('GET', `/api/v1/merchants/${A}/ext?templateId=999`), 404, 'template_not_found');
      assert.deepEqual(await stored(), before);
    });

    test('a write from a stale version → 409 ext_version_conflict, the newer document kept', async () => {
      const current = await merchantExt(C, 1);
      assert.equal(current.version, 0);
      const first = await putOverrides(C, 1, { shopId: 'first' }, 0);
      assert.equal(first.status, 200);
      const second = await putOverrides(C, 1, { shopId: 'second' }, 0);
      const error = assertError(second, 409, 'ext_version_conflict');
      assert.deepEqual(error.details, { currentVersion: 1, baseVersion: 0 });
      assert.equal((await merchantExt(C, 1)).overrides.shopId, 'first');
      assertError(await putDefaults(1, {}, 1), 409, 'ext_version_conflict');
      assert.equal((await putOverrides(C, 1, { shopId: 'second' }, 1)).status, 200, 'after reading again');
      const log = await auditLog(stack, `appId=${C}`);
      assert.deepEqual(log.map((e) => [e.action, e.result, e.errorCode]).slice(0, 3), [
        ['merchant.ext.update', 'ok', null],
        ['merchant.ext.update', 'error', 'ext_version_conflict'],
        ['merchant.ext.update', 'ok', null],
      ]);
      // Concurrent writers of one version: exactly one succeeds.
      const racing = await Promise.all([1, 2, 3, 4].map((n) => putOverrides(C, 1, { shopId: `race-${n}` }, 2)));
      assert.deepEqual(racing.map((r) => r.status).sort(), [200, 409, 409, 409]);
    });

    test('history: every version, newest first, paged with a cursor', async () => {
      for (let version = 0; version < 5; version++) {
        assert.equal((await putOverrides(D, 2, { n: version + 1 }, version)).status, 200);
      }
      const seen: History['items'] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const answer: { status: number; json: History } = await stack.api<History>('GET', `/api/v1/merchants/${D}/ext/history?templateId=2&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: stack.keys.viewer });
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        assert.ok(answer.json.items.length <= 2);
        seen.push(...answer.json.items);
        cursor = answer.json.nextCursor;
        if (!cursor) break;
      }
      assert.deepEqual(seen.map((h) => [h.version, h.document.n, h.appId, h.templateId, h.actorKeyId]), [5, 4, 3, 2, 1].map((v) => [v, v, D, 2, operator]));
      const other = await stack.api<History>('GET', `/api/v1/merchants/${D}/ext/history?templateId=1`);
      assert.deepEqual(other.json, { items: [], nextCursor: null }, 'per template');
    });

    test('a manual upload without extJson sends the effective ext; an explicit one is sent as given', async () => {
      const upload = await stack.api('POST', `/api/v1/merchants/${A}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '0.9.0' } });
      assert.equal(upload.status, 200, JSON.stringify(upload.json));
      const sent = (await sandboxApp(stack, A)).versions.dev?.ext_json;
      assert.deepEqual(JSON.parse(sent ?? 'null'), extJsonOf(A, (await merchantExt(A, 1)).effective));
      const explicit = await stack.api('POST', `/api/v1/merchants/${A}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '0.9.1', extJson: { only: 'this' } } });
      assert.equal(explicit.status, 200);
      assert.deepEqual(JSON.parse((await sandboxApp(stack, A)).versions.dev?.ext_json ?? 'null'), extJsonOf(A, { only: 'this' }));
    });

    test('a rollout uploads each merchant’s effective ext; an override with sandboxReject ends rejected, the others released', async () => {
      assert.equal((await putOverrides(B, 1, { sandboxReject: true, shopId: 'shop-b' }, 0)).status, 200);
      const expected = new Map<string, Record<string, unknown>>();
      for (const appId of APPS) expected.set(appId, (await merchantExt(appId, 1)).effective);
      assert.equal(expected.get(B)?.sandboxReject, true);

      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 1, userVersion: '5.0.0', userDesc: 'ext', targets: { appIds: APPS }, maxFailureRate: 1, concurrency: 4 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const id = created.json.rollout.id;
      let done: RolloutAnswer | undefined;
      for (let i = 0; i < 800 && done?.rollout.status !== 'completed'; i++) {
        done = (await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${id}`)).json;
        if (done.rollout.status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(done?.rollout.status, 'completed', JSON.stringify(done));
      assert.deepEqual([done.progress.byState.released, done.progress.byState.rejected], [3, 1]);
      const rejected = await stack.api<{ items: { appId: string; lastErrorCode: string | null; lastError: string | null }[] }>('GET', `/api/v1/rollouts/${id}/targets?state=rejected`);
      assert.deepEqual(rejected.json.items.map((t) => [t.appId, t.lastErrorCode]), [[B, 'audit_rejected']]);
      assert.match(rejected.json.items[0]?.lastError ?? '', /sandboxReject/);

      for (const appId of APPS) {
        const app = await sandboxApp(stack, appId);
        const version = appId === B ? app.versions.audit : app.versions.online;
        assert.equal(version?.user_version, '5.0.0', appId);
        assert.deepEqual(JSON.parse(version?.ext_json ?? 'null'), extJsonOf(appId, expected.get(appId)), `${appId} got its effective ext, addressed to it`);
      }
      assert.notDeepEqual(expected.get(A), expected.get(C), 'the merchants’ documents differ');
    });

    test('app config: a theme and tabs set once, one tab renamed for one merchant; the preview is what a rollout sends', async () => {
      const tabs = [
        { pagePath: 'pages/index/index', text: '首页' },
        { pagePath: 'pages/groupon/index', text: '团购' },
      ];
      const template = await stack.api<TemplateExt>('PUT', '/api/v1/templates/2/ext', {
        key: stack.keys.operator,
        body: { ext: { theme: 'red' }, appConfig: { window: { navigationBarBackgroundColor: '#ff5000' }, tabBar: { color: '#999999', list: tabs } }, baseVersion: 0 },
      });
      assert.equal(template.status, 200, JSON.stringify(template.json));
      // The app config alone: the custom config is kept.
      const overrides = await stack.api<MerchantExt>('PUT', `/api/v1/merchants/${C}/ext`, {
        key: stack.keys.operator,
        body: { templateId: 2, appConfig: { tabBar: { list: [{ pagePath: 'pages/groupon/index', text: '拼团' }] } }, baseVersion: 0 },
      });
      assert.equal(overrides.status, 200, JSON.stringify(overrides.json));
      assert.deepEqual(overrides.json.overrides, {});
      const withExt = await stack.api<MerchantExt>('PUT', `/api/v1/merchants/${C}/ext`, { key: stack.keys.operator, body: { templateId: 2, overrides: { shopName: '江南' }, baseVersion: 1 } });
      assert.deepEqual([withExt.json.version, withExt.json.appConfigOverrides], [2, { tabBar: { list: [{ pagePath: 'pages/groupon/index', text: '拼团' }] } }], 'the custom config alone: the app config is kept');

      const expected = (appId: string, groupon: string, ext: Record<string, unknown>) => ({
        extEnable: true,
        extAppId: appId,
        ext,
        window: { navigationBarBackgroundColor: '#ff5000' },
        tabBar: { color: '#999999', list: [tabs[0], { pagePath: 'pages/groupon/index', text: groupon }] },
      });
      const preview = await stack.api<{ appId: string; templateId: number; extJson: unknown }>('GET', `/api/v1/merchants/${C}/ext/preview?templateId=2`, { key: stack.keys.viewer });
      assert.equal(preview.status, 200, JSON.stringify(preview.json));
      assert.deepEqual(preview.json, { appId: C, templateId: 2, extJson: expected(C, '拼团', { theme: 'red', shopName: '江南' }) });

      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '6.0.0', userDesc: 'app config', targets: { appIds: [C, D] }, concurrency: 2 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      await waitFor(async () => ((await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${created.json.rollout.id}`)).json.rollout.status === 'completed' ? true : undefined), {
        timeoutMs: 20_000,
        what: 'the app-config rollout to complete',
      });
      const sent = async (appId: string) => JSON.parse((await sandboxApp(stack, appId)).versions.online?.ext_json ?? 'null') as unknown;
      assert.deepEqual(await sent(C), preview.json.extJson, 'what the preview showed');
      assert.deepEqual(await sent(D), expected(D, '团购', { ...(await merchantExt(D, 2)).effective }));
    });

    test('a bad app config → 400 naming the field, nothing stored', async () => {
      const before = await merchantExt(D, 2);
      const put = (appConfig: unknown) => stack.api('PUT', `/api/v1/merchants/${D}/ext`, { key: stack.keys.operator, body: { templateId: 2, appConfig, baseVersion: before.version } });
      for (const [appConfig, code, field] of [
        [{ theme: 'red' }, 'app_config_unknown_field', 'theme'],
        [{ pages: ['pages/index/index', 'pages/index/index'] }, 'app_config_invalid', 'pages'],
        [{ subPackages: [{ root: 'member', pages: [] }] }, 'app_config_invalid', 'subPackages[0].pages'],
        [{ networkTimeout: { request: 0 } }, 'app_config_invalid', 'networkTimeout.request'],
      ] as const) {
        const error = assertError(await put(appConfig), 400, code, JSON.stringify(appConfig));
        assert.equal(error.details.field, field);
      }
      // Shapes the schema itself refuses name the path.
      assert.match(assertError(await put({ pages: 'pages/index/index' }), 400, 'invalid_request').message, /appConfig\/pages/);
      assert.deepEqual(await merchantExt(D, 2), before);
      // extPages for a page the merchant's pages leave out: refused when the document is put together.
      assert.equal((await put({ pages: ['pages/index/index'], extPages: { 'pages/menu/index': { navigationBarTitleText: '菜单' } } })).status, 200, 'each level on its own is fine');
      assertError(await stack.api('GET', `/api/v1/merchants/${D}/ext/preview?templateId=2`), 400, 'app_config_invalid');
    });
  });
}
