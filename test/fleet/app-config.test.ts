import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAppConfig, checkAssembledAppConfig, mergeAppConfig } from '../../src/fleet/app-config.ts';
import { FleetError } from '../../src/fleet/errors.ts';

/** The error's code and the field it names. */
const refusal = (run: () => unknown): { code: string; field: unknown } => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof FleetError, String(error));
    assert.equal(error.type, 'invalid_data');
    return { code: error.code, field: error.details.field };
  }
  assert.fail('accepted');
};

const TEMPLATE = {
  pages: ['pages/index/index', 'pages/menu/index', 'pages/me/index'],
  window: { navigationBarBackgroundColor: '#ffffff', navigationBarTitleText: '小店' },
  tabBar: {
    color: '#999999',
    list: [
      { pagePath: 'pages/index/index', text: '首页', iconPath: 'icons/home.png' },
      { pagePath: 'pages/menu/index', text: '点餐', iconPath: 'icons/menu.png' },
    ],
  },
  extPages: { 'pages/menu/index': { navigationBarTitleText: '点餐', enablePullDownRefresh: true } },
  networkTimeout: { request: 10_000 },
};

describe('app config', () => {
  test('a theme set once at the template, one tab renamed by a merchant: everything else inherited', () => {
    const channel = { window: { navigationBarBackgroundColor: '#ff5000' } };
    const merchant = { tabBar: { list: [{ pagePath: 'pages/menu/index', text: '菜单' }] }, extPages: { 'pages/menu/index': { navigationBarTitleText: '川味菜单' } } };
    const merged = mergeAppConfig(mergeAppConfig(mergeAppConfig({}, TEMPLATE), channel), merchant);
    assert.deepEqual(merged, {
      pages: TEMPLATE.pages,
      window: { navigationBarBackgroundColor: '#ff5000', navigationBarTitleText: '小店' },
      tabBar: {
        color: '#999999',
        list: [
          { pagePath: 'pages/index/index', text: '首页', iconPath: 'icons/home.png' },
          { pagePath: 'pages/menu/index', text: '菜单', iconPath: 'icons/menu.png' },
        ],
      },
      extPages: { 'pages/menu/index': { navigationBarTitleText: '川味菜单', enablePullDownRefresh: true } },
      networkTimeout: { request: 10_000 },
    });
    assert.equal(TEMPLATE.tabBar.list[1]?.text, '点餐', 'inputs are not modified');
  });

  test('pages and subPackages replace whole; null removes a field or a key; a new tab is appended', () => {
    const base = mergeAppConfig({}, { ...TEMPLATE, subPackages: [{ root: 'member', pages: ['index', 'card'] }] });
    const merged = mergeAppConfig(base, {
      pages: ['pages/index/index'],
      subPackages: [{ root: 'member', pages: ['index'] }],
      networkTimeout: null,
      window: { navigationBarTitleText: null },
      tabBar: { list: [{ pagePath: 'pages/me/index', text: '我的' }] },
    });
    assert.deepEqual(merged.pages, ['pages/index/index']);
    assert.deepEqual(merged.subPackages, [{ root: 'member', pages: ['index'] }]);
    assert.equal(merged.networkTimeout, undefined);
    assert.deepEqual(merged.window, { navigationBarBackgroundColor: '#ffffff' });
    assert.deepEqual(merged.tabBar?.list?.map((tab) => tab.pagePath), ['pages/index/index', 'pages/menu/index', 'pages/me/index']);
  });

  test('validation names the field: unknown fields, empty or duplicated lists, bad shapes', () => {
    assert.deepEqual(refusal(() => checkAppConfig({ theme: 'red' })), { code: 'app_config_unknown_field', field: 'theme' });
    assert.deepEqual(refusal(() => checkAppConfig({ extEnable: true })), { code: 'app_config_unknown_field', field: 'extEnable' });
    assert.deepEqual(refusal(() => checkAppConfig([])), { code: 'app_config_invalid', field: '' });
    assert.deepEqual(refusal(() => checkAppConfig({ pages: [] })), { code: 'app_config_invalid', field: 'pages' });
    assert.deepEqual(refusal(() => checkAppConfig({ pages: ['a', 'a'] })), { code: 'app_config_invalid', field: 'pages' });
    assert.deepEqual(refusal(() => checkAppConfig({ pages: ['a', 7] })), { code: 'app_config_invalid', field: 'pages' });
    assert.deepEqual(refusal(() => checkAppConfig({ subPackages: [{ root: 'm', pages: [] }] })), { code: 'app_config_invalid', field: 'subPackages[0].pages' });
    assert.deepEqual(refusal(() => checkAppConfig({ subPackages: [{ root: 'm', pages: ['i'] }, { root: 'm', pages: ['j'] }] })), { code: 'app_config_invalid', field: 'subPackages[1]' });
    assert.deepEqual(refusal(() => checkAppConfig({ extPages: { 'pages/a': 'dark' } })), { code: 'app_config_invalid', field: 'extPages.pages/a' });
    assert.deepEqual(refusal(() => checkAppConfig({ window: ['x'] })), { code: 'app_config_invalid', field: 'window' });
    assert.deepEqual(refusal(() => checkAppConfig({ tabBar: { list: [{ text: '首页' }] } })), { code: 'app_config_invalid', field: 'tabBar.list[0]' });
    assert.deepEqual(refusal(() => checkAppConfig({ networkTimeout: { request: -1 } })), { code: 'app_config_invalid', field: 'networkTimeout.request' });
    assert.deepEqual(refusal(() => checkAppConfig({ networkTimeout: { ftp: 100 } })), { code: 'app_config_invalid', field: 'networkTimeout.ftp' });
    // The custom config's limits hold too (size, depth, prototype keys).
    assert.equal(refusal(() => checkAppConfig({ window: { __proto__x: 1, big: 'x'.repeat(40_000) } })).code, 'ext_too_large');
    // Accepted: every documented field, and nulls (they remove).
    assert.deepEqual(checkAppConfig({ ...TEMPLATE, subPackages: null }), { ...TEMPLATE, subPackages: null });
  });

  test('assembled: extPages and tabs only on the pages it keeps', () => {
    assert.deepEqual(checkAssembledAppConfig(TEMPLATE), TEMPLATE);
    assert.deepEqual(refusal(() => checkAssembledAppConfig({ ...TEMPLATE, pages: ['pages/index/index', 'pages/me/index'], tabBar: { list: [] } })), { code: 'app_config_invalid', field: 'extPages' });
    assert.deepEqual(refusal(() => checkAssembledAppConfig({ ...TEMPLATE, pages: ['pages/index/index'], extPages: {} })), { code: 'app_config_invalid', field: 'tabBar.list' });
    assert.deepEqual(checkAssembledAppConfig({ extPages: { 'pages/any': {} } }), { extPages: { 'pages/any': {} } }, 'without pages, the template decides');
  });
});
