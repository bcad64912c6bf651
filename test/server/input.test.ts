/**
 * Bad input on every /api/v1 route: the right 4xx with `{error: {code, message, details}}`, never a 500 or
 * a stack trace, and nothing changes — not our database, not the platform. Plus the system routes: unknown
 * routes, health, readiness, metrics, the OpenAPI document and /docs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, auditLog, authorizeMerchant, sandboxCalls, sandboxState } from '../helpers/rest.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const M = `/api/v1/merchants/${APP}`;
const ONE_MIB = 1024 * 1024;

interface BadRequest {
  /** The route as OpenAPI names it, e.g. `POST /api/v1/merchants/{appId}/code`. */
  route: string;
  what: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const long = (length: number, char = 'x'): string => char.repeat(length);
const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** POST routes that take a JSON object body, with a valid body each (bad variants are built from it). */
const BODY_ROUTES: { route: string; path: string; valid: Record<string, unknown> }[] = [
  { route: 'POST /api/v1/authorizations', path: '/api/v1/authorizations', valid: {} },
  { route: 'POST /api/v1/merchants/{appId}/domains/server', path: `${M}/domains/server`, valid: { action: 'add', request: ['https://api.example.com'] } },
  { route: 'POST /api/v1/merchants/{appId}/domains/webview', path: `${M}/domains/webview`, valid: { action: 'add', domains: ['https://h5.example.com'] } },
  { route: 'POST /api/v1/merchants/{appId}/code', path: `${M}/code`, valid: { templateId: 1, userVersion: '2.0.0', extJson: { shopId: 1 } } },
  { route: 'POST /api/v1/merchants/{appId}/audit', path: `${M}/audit`, valid: { note: 'n' } },
  { route: 'POST /api/v1/merchants/{appId}/capabilities/{capability}', path: `${M}/capabilities/live-mount`, valid: { reason: 'r' } },
  { route: 'POST /api/v1/keys', path: '/api/v1/keys', valid: { name: 'k', role: 'viewer' } },
  { route: 'POST /api/v1/rollouts', path: '/api/v1/rollouts', valid: { templateId: 1, userVersion: '9.9.9', userDesc: '', targets: { appIds: [APP] } } },
  { route: 'POST /api/v1/domain-policies', path: '/api/v1/domain-policies', valid: { targets: { appIds: [APP] }, webviewDomains: ['https://h5.example.com'], dryRun: true } },
  { route: 'POST /api/v1/platform/probe', path: '/api/v1/platform/probe', valid: { appId: APP } },
];

/** PUT routes of the ext config, with a valid body each. */
const EXT_PUTS: { route: string; path: string; valid: Record<string, unknown> }[] = [
  { route: 'PUT /api/v1/templates/{templateId}/ext', path: '/api/v1/templates/1/ext', valid: { ext: { theme: 'red' }, baseVersion: 0 } },
  { route: 'PUT /api/v1/merchants/{appId}/ext', path: `${M}/ext`, valid: { templateId: 1, overrides: { shopId: 's1' }, baseVersion: 0 } },
];

/** POST routes without a body. */
const BODYLESS_ROUTES: { route: string; path: string }[] = [
  { route: 'POST /api/v1/merchants/{appId}/audit/withdraw', path: `${M}/audit/withdraw` },
  { route: 'POST /api/v1/merchants/{appId}/release', path: `${M}/release` },
  { route: 'POST /api/v1/merchants/{appId}/rollback', path: `${M}/rollback` },
  ...['pause', 'resume', 'abort', 'rollback', 'release'].map((name) => ({ route: `POST /api/v1/rollouts/{id}/${name}`, path: `/api/v1/rollouts/ro_missing/${name}` })),
  { route: 'POST /api/v1/templates/sync', path: '/api/v1/templates/sync' },
];

/** Routes with an {appId} path parameter: [route, method, path after the app id]. */
const APP_ROUTES: [string, string, string][] = [
  ['GET /api/v1/merchants/{appId}', 'GET', ''],
  ['GET /api/v1/merchants/{appId}/domains/server', 'GET', '/domains/server'],
  ['POST /api/v1/merchants/{appId}/domains/server', 'POST', '/domains/server'],
  ['GET /api/v1/merchants/{appId}/domains/webview', 'GET', '/domains/webview'],
  ['POST /api/v1/merchants/{appId}/domains/webview', 'POST', '/domains/webview'],
  ['POST /api/v1/merchants/{appId}/code', 'POST', '/code'],
  ['POST /api/v1/merchants/{appId}/audit', 'POST', '/audit'],
  ['POST /api/v1/merchants/{appId}/audit/withdraw', 'POST', '/audit/withdraw'],
  ['GET /api/v1/merchants/{appId}/qrcode', 'GET', '/qrcode'],
  ['GET /api/v1/merchants/{appId}/versions', 'GET', '/versions'],
  ['POST /api/v1/merchants/{appId}/release', 'POST', '/release'],
  ['POST /api/v1/merchants/{appId}/rollback', 'POST', '/rollback'],
  ['POST /api/v1/merchants/{appId}/capabilities/{capability}', 'POST', '/capabilities/live-mount'],
  ['GET /api/v1/merchants/{appId}/capabilities/{capability}', 'GET', '/capabilities/live-mount'],
  ['GET /api/v1/merchants/{appId}/ext', 'GET', '/ext'],
  ['PUT /api/v1/merchants/{appId}/ext', 'PUT', '/ext'],
  ['GET /api/v1/merchants/{appId}/ext/history', 'GET', '/ext/history'],
  ['GET /api/v1/merchants/{appId}/ext/preview', 'GET', '/ext/preview'],
  ['GET /api/v1/merchants/{appId}/onboarding/plan', 'GET', '/onboarding/plan'],
  ['POST /api/v1/merchants/{appId}/onboarding/start', 'POST', '/onboarding/start'],
  ['GET /api/v1/merchants/{appId}/runtime', 'GET', '/runtime'],
  ['GET /api/v1/merchants/{appId}/users', 'GET', '/users'],
];

/** App ids no route may accept, as they appear in the URL. */
const ODD_APP_IDS: [string, number][] = [
  ['ks0001%20x', 400],
  ['ks.0001', 400],
  ['%2e%2e%2fkeys', 400],
  ['a%2Fb', 400],
  ['ks0001%00', 400],
  ['%E5%B7%9D%E5%91%B3', 400],
  ['ks%27%3B--', 400],
  [long(65, 'a'), 400],
  ['%zz', 400],
  [long(101, 'a'), 414],
];

function badRequests(): BadRequest[] {
  const cases: BadRequest[] = [];
  const add = (route: string, what: string, request: Omit<BadRequest, 'route' | 'what'>): void => {
    cases.push({ route, what, ...request });
  };

  // Every body route: bodies that are not a JSON object, or not JSON at all.
  for (const { route, path, valid } of BODY_ROUTES) {
    add(route, 'not JSON with application/json', { method: 'POST', path, raw: '{"oops":', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'empty body with application/json', { method: 'POST', path, raw: '', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'JSON array body', { method: 'POST', path, body: [valid], status: 400, code: 'invalid_request' });
    add(route, 'JSON string body', { method: 'POST', path, body: 'text', status: 400, code: 'invalid_request' });
    // Not to be taken for a missing body (type coercion would make them null).
    for (const scalar of ['false', '0', '""']) {
      add(route, `JSON ${scalar} body`, { method: 'POST', path, raw: scalar, headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    }
    add(route, 'prototype pollution', { method: 'POST', path, raw: `{"__proto__":{"admin":true},${JSON.stringify(valid).slice(1)}`, headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'text/plain', { method: 'POST', path, raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' });
    add(route, 'form encoded', { method: 'POST', path, raw: 'action=add', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' });
    add(route, 'over 1 MiB', { method: 'POST', path, body: { ...valid, padding: long(ONE_MIB + 10) }, status: 413, code: 'body_too_large' });
  }
  for (const { route, path } of BODYLESS_ROUTES) {
    add(route, 'not JSON with application/json', { method: 'POST', path, raw: '{"oops":', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'text/plain', { method: 'POST', path, raw: 'release now', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' });
    add(route, 'over 1 MiB', { method: 'POST', path, raw: JSON.stringify({ padding: long(ONE_MIB + 10) }), headers: JSON_TYPE, status: 413, code: 'body_too_large' });
  }

  // Every route with an app id: odd characters, too long, bad percent-encoding.
  for (const [route, method, rest] of APP_ROUTES) {
    for (const [appId, status] of ODD_APP_IDS) {
      const body = [...BODY_ROUTES, ...EXT_PUTS].find((r) => r.route === route)?.valid;
      add(route, `app id ${appId.slice(0, 20)}`, { method, path: `/api/v1/merchants/${appId}${rest}`, ...(body ? { body } : {}), status, code: 'invalid_request' });
    }
  }

  const authorizations = 'POST /api/v1/authorizations';
  add(authorizations, 'redirectUri not a URI', { method: 'POST', path: '/api/v1/authorizations', body: { redirectUri: 'not a uri' }, status: 400, code: 'invalid_request' });
  add(authorizations, 'redirectUri too long', { method: 'POST', path: '/api/v1/authorizations', body: { redirectUri: `https://example.com/${long(1100)}` }, status: 400, code: 'invalid_request' });
  add(authorizations, 'redirectUri an object', { method: 'POST', path: '/api/v1/authorizations', body: { redirectUri: { url: 'https://example.com' } }, status: 400, code: 'invalid_request' });

  const merchants = 'GET /api/v1/merchants';
  for (const [query, code] of [
    ['limit=0', 'invalid_request'],
    ['limit=1000', 'invalid_request'],
    ['limit=201', 'invalid_request'],
    ['limit=abc', 'invalid_request'],
    ['limit=-1', 'invalid_request'],
    ['limit=1.5', 'invalid_request'],
    ['limit=10&limit=20', 'invalid_request'],
    ['status=gone', 'invalid_request'],
    [`q=${long(101)}`, 'invalid_request'],
    ['cursor=zzz', 'invalid_cursor'],
    [`cursor=${base64url({ appId: 'x' })}`, 'invalid_cursor'],
    [`cursor=${base64url([1])}`, 'invalid_cursor'],
    [`cursor=${base64url(['a', 'b'])}`, 'invalid_cursor'],
    [`cursor=${long(201, 'A')}`, 'invalid_request'],
    ['sort=revenue', 'invalid_request'],
    ['total=maybe', 'invalid_request'],
    ['order=up', 'invalid_request'],
    ['auditState=lost', 'invalid_request'],
    ['auditVersion=', 'invalid_request'],
    [`auditVersion=${long(65)}`, 'invalid_request'],
    [`sort=name&cursor=${base64url(['ks_a'])}`, 'invalid_cursor'],
    [`sort=authorizedAt&cursor=${base64url(['x', 'ks_a'])}`, 'invalid_cursor'],
  ] as const) {
    add(merchants, query.slice(0, 30), { method: 'GET', path: `/api/v1/merchants?${query}`, status: 400, code });
  }

  // GET /api/v1/platform takes nothing: a query it does not know is ignored, a bad key refused.
  add('GET /api/v1/platform', 'an unknown key', { method: 'GET', path: '/api/v1/platform', headers: { authorization: 'Bearer ksk_AAAAAAAAAAAA_' + long(32, 'b') }, status: 401, code: 'unauthenticated' });

  const users = 'GET /api/v1/merchants/{appId}/users';
  for (const [query, code] of [
    ['limit=0', 'invalid_request'],
    ['limit=201', 'invalid_request'],
    ['limit=abc', 'invalid_request'],
    ['cursor=zzz', 'invalid_cursor'],
    [`cursor=${base64url({ openId: 'x' })}`, 'invalid_cursor'],
    [`cursor=${long(257, 'A')}`, 'invalid_request'],
  ] as const) {
    add(users, query.slice(0, 30), { method: 'GET', path: `${M}/users?${query}`, status: 400, code });
  }

  const server = 'POST /api/v1/merchants/{appId}/domains/server';
  for (const [what, body] of [
    ['missing action', { request: ['https://api.example.com'] }],
    ['unknown action', { action: 'replace', request: ['https://api.example.com'] }],
    ['action as a number', { action: 5, request: ['https://api.example.com'] }],
    ['a list as an object', { action: 'add', request: { url: 'https://api.example.com' } }],
    ['an empty domain', { action: 'add', request: [''] }],
    ['a domain of 254 characters', { action: 'add', request: [`https://${long(240)}.example.com`] }],
    ['201 domains', { action: 'add', request: Array.from({ length: 201 }, (_, i) => `https://d${i}.example.com`) }],
    ['add without a domain', { action: 'add' }],
    ['delete with empty lists', { action: 'delete', request: [], socket: [] }],
    ['a misspelt list (set would clear everything)', { action: 'set', requests: ['https://api.example.com'] }],
    ['an unregistered domain', { action: 'add', request: ['https://evil.org'] }],
    ['a wrong scheme', { action: 'add', socket: ['https://ws.example.com'] }],
    ['null body', null],
  ] as const) {
    add(server, what, { method: 'POST', path: `${M}/domains/server`, ...(body === null ? { raw: 'null', headers: JSON_TYPE } : { body }), status: 400, code: 'invalid_request' });
  }

  const webview = 'POST /api/v1/merchants/{appId}/domains/webview';
  for (const [what, body] of [
    ['missing action', { domains: ['https://h5.example.com'] }],
    ['unknown action', { action: 'remove', domains: ['https://h5.example.com'] }],
    ['domains as an object', { action: 'add', domains: { a: 'https://h5.example.com' } }],
    ['add without domains', { action: 'add' }],
    ['delete with an empty list', { action: 'delete', domains: [] }],
    ['a misspelt field (set would clear everything)', { action: 'set', domain: ['https://h5.example.com'] }],
    ['an unregistered domain', { action: 'add', domains: ['https://evil.org'] }],
    ['a huge domain', { action: 'add', domains: [`https://${long(100_000)}.example.com`] }],
  ] as const) {
    add(webview, what, { method: 'POST', path: `${M}/domains/webview`, body, status: 400, code: 'invalid_request' });
  }

  const code = 'POST /api/v1/merchants/{appId}/code';
  const upload = { templateId: 1, userVersion: '2.0.0', extJson: { shopId: 1 } };
  for (const [what, body] of [
    ['missing templateId', { userVersion: '2.0.0', extJson: {} }],
    ['missing userVersion', { templateId: 1, extJson: {} }],
    ['templateId text', { ...upload, templateId: 'abc' }],
    ['templateId negative', { ...upload, templateId: -1 }],
    ['templateId fractional', { ...upload, templateId: 1.5 }],
    ['templateId an object', { ...upload, templateId: { id: 1 } }],
    ['userVersion empty', { ...upload, userVersion: '' }],
    ['userVersion 65 characters', { ...upload, userVersion: long(65) }],
    ['userVersion an object', { ...upload, userVersion: { v: 1 } }],
    ['userDesc 1025 characters', { ...upload, userDesc: long(1025) }],
    ['extJson an array', { ...upload, extJson: [1, 2] }],
    ['extJson JSON text of an array', { ...upload, extJson: '[1,2]' }],
    ['extJson text that is not JSON', { ...upload, extJson: 'shopId=1' }],
    ['extJson JSON text of null', { ...upload, extJson: 'null' }],
    ['extJson text over 512 KiB', { ...upload, extJson: `{"a":"${long(512 * 1024)}"}` }],
  ] as const) {
    add(code, what, { method: 'POST', path: `${M}/code`, body, status: 400, code: 'invalid_request' });
  }

  const audit = 'POST /api/v1/merchants/{appId}/audit';
  add(audit, 'note 1025 characters', { method: 'POST', path: `${M}/audit`, body: { note: long(1025) }, status: 400, code: 'invalid_request' });
  add(audit, 'note an object', { method: 'POST', path: `${M}/audit`, body: { note: { text: 'x' } }, status: 400, code: 'invalid_request' });

  const qrcode = 'GET /api/v1/merchants/{appId}/qrcode';
  add(qrcode, 'unknown version', { method: 'GET', path: `${M}/qrcode?version=online`, status: 400, code: 'invalid_request' });
  add(qrcode, 'path 513 characters', { method: 'GET', path: `${M}/qrcode?path=${long(513)}`, status: 400, code: 'invalid_request' });

  const applyCapability = 'POST /api/v1/merchants/{appId}/capabilities/{capability}';
  const capabilityStatus = 'GET /api/v1/merchants/{appId}/capabilities/{capability}';
  for (const capability of ['teleport', 'LIVE_MOUNT', 'liveMount', 'live-mount%20', '__proto__', long(200)]) {
    add(applyCapability, `capability ${capability.slice(0, 20)}`, { method: 'POST', path: `${M}/capabilities/${capability}`, body: {}, status: capability.length > 100 ? 414 : 400, code: 'invalid_request' });
    add(capabilityStatus, `capability ${capability.slice(0, 20)}`, { method: 'GET', path: `${M}/capabilities/${capability}`, status: capability.length > 100 ? 414 : 400, code: 'invalid_request' });
  }
  add(applyCapability, 'reason 501 characters', { method: 'POST', path: `${M}/capabilities/live-mount`, body: { reason: long(501) }, status: 400, code: 'invalid_request' });
  add(applyCapability, 'reason an array of two', { method: 'POST', path: `${M}/capabilities/live-mount`, body: { reason: ['a', 'b'] }, status: 400, code: 'invalid_request' });

  add('GET /api/v1/me', 'a method the route does not have', { method: 'POST', path: '/api/v1/me', body: { role: 'admin' }, status: 404, code: 'not_found' });
  add('GET /api/v1/me', 'DELETE is no route', { method: 'DELETE', path: '/api/v1/me?role=admin', status: 404, code: 'not_found' });

  const templates = 'GET /api/v1/templates';
  add(templates, 'a method the route does not have', { method: 'DELETE', path: '/api/v1/templates', status: 404, code: 'not_found' });
  add(templates, 'a body on the collection', { method: 'POST', path: '/api/v1/templates', body: { templateId: 3 }, status: 404, code: 'not_found' });

  // Ext config: the body's shape, the document's limits, unknown templates and merchants.
  const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: 1 } : { level: nested(depth - 1) });
  for (const { route, path, valid } of EXT_PUTS) {
    const field = 'ext' in valid ? 'ext' : 'overrides';
    const put = (what: string, request: { body?: unknown; raw?: string; headers?: Record<string, string> }, status: number, code: string): void =>
      add(route, what, { method: 'PUT', path, ...request, status, code });
    put('not JSON', { raw: '{"oops":', headers: JSON_TYPE }, 400, 'invalid_request');
    put('JSON array body', { body: [valid] }, 400, 'invalid_request');
    put('prototype pollution', { raw: `{"__proto__":{"admin":true},${JSON.stringify(valid).slice(1)}`, headers: JSON_TYPE }, 400, 'invalid_request');
    put('text/plain', { raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type');
    put('over 1 MiB', { body: { ...valid, [field]: { padding: long(ONE_MIB + 10) } } }, 413, 'body_too_large');
    put('missing baseVersion', { body: { ...valid, baseVersion: undefined } }, 400, 'invalid_request');
    put('baseVersion negative', { body: { ...valid, baseVersion: -1 } }, 400, 'invalid_request');
    put('baseVersion as text', { body: { ...valid, baseVersion: '0' } }, 400, 'invalid_request');
    put('an unknown field', { body: { ...valid, version: 1 } }, 400, 'invalid_request');
    put(`${field} an array`, { body: { ...valid, [field]: [1, 2] } }, 400, 'invalid_request');
    put(`${field} a string`, { body: { ...valid, [field]: '{"a":1}' } }, 400, 'invalid_request');
    put(`${field} null`, { body: { ...valid, [field]: null } }, 400, 'invalid_request');
    put(`${field} over 32 KiB`, { body: { ...valid, [field]: { text: long(33 * 1024) } } }, 400, 'ext_too_large');
    put(`${field} 11 levels deep`, { body: { ...valid, [field]: nested(11) } }, 400, 'ext_too_deep');
    put(`${field} with a constructor key`, { body: { ...valid, [field]: { constructor: 1 } } }, 400, 'ext_invalid');
    put('neither part', { body: { ...valid, [field]: undefined } }, 400, 'ext_invalid');
    put('appConfig an array', { body: { ...valid, appConfig: [] } }, 400, 'invalid_request');
    put('appConfig pages a string', { body: { ...valid, appConfig: { pages: 'pages/index/index' } } }, 400, 'invalid_request');
    put('appConfig an unknown field', { body: { ...valid, appConfig: { theme: 'red' } } }, 400, 'app_config_unknown_field');
    put('appConfig pages listed twice', { body: { ...valid, appConfig: { pages: ['a', 'a'] } } }, 400, 'app_config_invalid');
    put('appConfig over 32 KiB', { body: { ...valid, appConfig: { window: { text: long(33 * 1024) } } } }, 400, 'ext_too_large');
  }
  add('PUT /api/v1/templates/{templateId}/ext', 'an unknown template', { method: 'PUT', path: '/api/v1/templates/999/ext', body: EXT_PUTS[0]!.valid, status: 404, code: 'template_not_found' });
  add('PUT /api/v1/templates/{templateId}/ext', 'templateId text', { method: 'PUT', path: '/api/v1/templates/abc/ext', body: EXT_PUTS[0]!.valid, status: 400, code: 'invalid_request' });
  add('PUT /api/v1/merchants/{appId}/ext', 'an unknown template', { method: 'PUT', path: `${M}/ext`, body: { ...EXT_PUTS[1]!.valid, templateId: 999 }, status: 404, code: 'template_not_found' });
  add('PUT /api/v1/merchants/{appId}/ext', 'missing templateId', { method: 'PUT', path: `${M}/ext`, body: { overrides: {}, baseVersion: 0 }, status: 400, code: 'invalid_request' });
  add('PUT /api/v1/merchants/{appId}/ext', 'an unknown merchant', { method: 'PUT', path: '/api/v1/merchants/ks_nobody/ext', body: EXT_PUTS[1]!.valid, status: 404, code: 'merchant_not_found' });
  const templateExt = 'GET /api/v1/templates/{templateId}/ext';
  add(templateExt, 'templateId text', { method: 'GET', path: '/api/v1/templates/abc/ext', status: 400, code: 'invalid_request' });
  add(templateExt, 'templateId negative', { method: 'GET', path: '/api/v1/templates/-1/ext', status: 400, code: 'invalid_request' });
  add(templateExt, 'an unknown template', { method: 'GET', path: '/api/v1/templates/999/ext', status: 404, code: 'template_not_found' });
  add('POST /api/v1/templates/sync', 'GET on the sync route', { method: 'GET', path: '/api/v1/templates/sync', status: 404, code: 'not_found' });
  for (const [route, rest] of [
    ['GET /api/v1/merchants/{appId}/ext', '/ext'],
    ['GET /api/v1/merchants/{appId}/ext/history', '/ext/history'],
    ['GET /api/v1/merchants/{appId}/ext/preview', '/ext/preview'],
  ] as const) {
    add(route, 'templateId text', { method: 'GET', path: `${M}${rest}?templateId=abc`, status: 400, code: 'invalid_request' });
    add(route, 'an unknown template', { method: 'GET', path: `${M}${rest}?templateId=999`, status: 404, code: 'template_not_found' });
    add(route, 'an unknown merchant', { method: 'GET', path: `/api/v1/merchants/ks_nobody${rest}`, status: 404, code: 'merchant_not_found' });
  }
  const history = 'GET /api/v1/merchants/{appId}/ext/history';
  for (const [query, errorCode] of [
    ['limit=0', 'invalid_request'],
    ['limit=201', 'invalid_request'],
    ['cursor=zzz', 'invalid_cursor'],
    [`cursor=${base64url(['x'])}`, 'invalid_cursor'],
    [`cursor=${base64url([0])}`, 'invalid_cursor'],
    [`cursor=${base64url([1, 2])}`, 'invalid_cursor'],
    [`cursor=${long(201, 'A')}`, 'invalid_request'],
  ] as const) {
    add(history, query.slice(0, 30), { method: 'GET', path: `${M}/ext/history?${query}`, status: 400, code: errorCode });
  }

  for (const [route, path] of [['GET /api/v1/audit-log', '/api/v1/audit-log'], ['GET /api/v1/push-events', '/api/v1/push-events']] as const) {
    for (const [query, errorCode] of [
      ['limit=0', 'invalid_request'],
      ['limit=1000', 'invalid_request'],
      ['limit=abc', 'invalid_request'],
      ['cursor=zzz', 'invalid_cursor'],
      [`cursor=${base64url(['x', 'y'])}`, 'invalid_cursor'],
      [`cursor=${base64url([1.5, 'x'])}`, 'invalid_cursor'],
      [`cursor=${long(201, 'A')}`, 'invalid_request'],
    ] as const) {
      add(route, query.slice(0, 30), { method: 'GET', path: `${path}?${query}`, status: 400, code: errorCode });
    }
  }
  add('GET /api/v1/audit-log', 'appId 65 characters', { method: 'GET', path: `/api/v1/audit-log?appId=${long(65)}`, status: 400, code: 'invalid_request' });
  add('GET /api/v1/audit-log', 'actor 65 characters', { method: 'GET', path: `/api/v1/audit-log?actor=${long(65)}`, status: 400, code: 'invalid_request' });
  add('GET /api/v1/audit-log', 'action 65 characters', { method: 'GET', path: `/api/v1/audit-log?action=${long(65)}`, status: 400, code: 'invalid_request' });
  const rollouts = 'POST /api/v1/rollouts';
  const valid = { templateId: 1, userVersion: '9.9.9', userDesc: '', targets: { appIds: [APP] } };
  for (const [what, body] of [
    ['no targets', { ...valid, targets: { appIds: [] } }],
    ['targets all: false', { ...valid, targets: { all: false } }],
    ['an unknown merchant', { ...valid, targets: { appIds: ['ks_nobody'] } }],
    ['a wave of 0 %', { ...valid, waves: [{ percent: 0 }] }],
    ['a wave of 0 merchants', { ...valid, waves: [{ count: 0 }] }],
    ['concurrency 0', { ...valid, concurrency: 0 }],
    ['maxFailureRate 2', { ...valid, maxFailureRate: 2 }],
    ['templateId as text', { ...valid, templateId: '1' }],
    ['no userVersion', { templateId: 1, targets: { all: true } }],
    ['an unknown field', { ...valid, dryRun: 'yes' }],
  ] as const) {
    add(rollouts, what, { method: 'POST', path: '/api/v1/rollouts', body, status: 400, code: 'invalid_request' });
  }
  add(rollouts, 'a domain policy with a domain not registered', {
    method: 'POST', path: '/api/v1/rollouts', body: { ...valid, domains: { webview: ['https://h5.elsewhere.test'] } }, status: 400, code: 'invalid_request',
  });
  add(rollouts, 'a domain policy with an unknown list', { method: 'POST', path: '/api/v1/rollouts', body: { ...valid, domains: { server: { requests: [] } } }, status: 400, code: 'invalid_request' });
  const policies = 'POST /api/v1/domain-policies';
  const policy = { targets: { appIds: [APP] }, serverDomains: { request: ['https://api.example.com'] } };
  for (const dryRun of [true, false]) {
    for (const [what, body] of [
      ['no list', { targets: policy.targets }],
      ['a server domain not registered', { ...policy, serverDomains: { request: ['https://api.elsewhere.test'] } }],
      ['a webview domain not registered', { ...policy, webviewDomains: ['https://example.com.evil.test'] }],
      ['a socket domain over https', { ...policy, serverDomains: { socket: ['https://ws.example.com'] } }],
      ['a domain with a path', { ...policy, serverDomains: { request: ['https://api.example.com/v1'] } }],
      ['not a URL', { ...policy, webviewDomains: ['example.com'] }],
      ['an unknown list', { ...policy, serverDomains: { requests: ['https://api.example.com'] } }],
      ['webviewDomains as text', { ...policy, webviewDomains: 'https://h5.example.com' }],
      ['an unknown merchant', { ...policy, targets: { appIds: ['ks_nobody'] } }],
      ['targets all: false', { ...policy, targets: { all: false } }],
      ['no targets', { serverDomains: policy.serverDomains }],
      ['concurrency 0', { ...policy, concurrency: 0 }],
      ['an unknown field', { ...policy, templateId: 1 }],
    ] as const) {
      add(policies, `${what} (dryRun ${dryRun})`, { method: 'POST', path: '/api/v1/domain-policies', body: { ...body, dryRun }, status: 400, code: 'invalid_request' });
    }
  }
  add(policies, 'no dryRun', { method: 'POST', path: '/api/v1/domain-policies', body: policy, status: 400, code: 'invalid_request' });
  add(policies, 'dryRun as text', { method: 'POST', path: '/api/v1/domain-policies', body: { ...policy, dryRun: 'true' }, status: 400, code: 'invalid_request' });
  add(policies, 'a cursor when applying', { method: 'POST', path: '/api/v1/domain-policies', body: { ...policy, dryRun: false, cursor: APP }, status: 400, code: 'invalid_request' });
  add(policies, 'limit 0', { method: 'POST', path: '/api/v1/domain-policies', body: { ...policy, dryRun: true, limit: 0 }, status: 400, code: 'invalid_request' });
  add('GET /api/v1/rollouts', 'limit=0', { method: 'GET', path: '/api/v1/rollouts?limit=0', status: 400, code: 'invalid_request' });
  add('GET /api/v1/rollouts', 'an unknown status', { method: 'GET', path: '/api/v1/rollouts?status=bogus', status: 400, code: 'invalid_request' });
  add('GET /api/v1/rollouts', 'a bad cursor', { method: 'GET', path: '/api/v1/rollouts?cursor=%%%', status: 400 });
  for (const [route, rest] of [['GET /api/v1/rollouts/{id}', ''], ['GET /api/v1/rollouts/{id}/targets', '/targets'], ['GET /api/v1/rollouts/{id}/events', '/events']] as const) {
    add(route, 'an odd id', { method: 'GET', path: `/api/v1/rollouts/a%20b${rest}`, status: 400, code: 'invalid_request' });
    add(route, 'an unknown id', { method: 'GET', path: `/api/v1/rollouts/ro_missing${rest}`, status: 404, code: 'rollout_not_found' });
  }
  add('GET /api/v1/rollouts/{id}/targets', 'an unknown state', { method: 'GET', path: '/api/v1/rollouts/ro_missing/targets?state=bogus', status: 400, code: 'invalid_request' });
  add('GET /api/v1/push-events', 'eventType 65 characters', { method: 'GET', path: `/api/v1/push-events?eventType=${long(65)}`, status: 400, code: 'invalid_request' });

  // Channels and the onboarding policy (PUT routes: their own cases).
  const putChannel = 'PUT /api/v1/channels/{name}';
  const channel = { templateId: 1, userVersion: '1.0.0' };
  for (const [what, request] of [
    ['not JSON', { raw: '{"oops":', headers: JSON_TYPE, status: 400 }],
    ['an array body', { body: [channel], status: 400 }],
    ['no body', { status: 400 }],
    ['text/plain', { raw: JSON.stringify(channel), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' }],
    ['over 1 MiB', { body: { ...channel, userDesc: long(ONE_MIB + 10) }, status: 413, code: 'body_too_large' }],
    ['no templateId', { body: { userVersion: '1.0.0' }, status: 400 }],
    ['templateId as text', { body: { ...channel, templateId: '1' }, status: 400 }],
    ['an unknown field', { body: { ...channel, channel: 'beta' }, status: 400 }],
    ['extDefaults an array', { body: { ...channel, extDefaults: [1] }, status: 400 }],
    ['extDefaults over 32 KiB', { body: { ...channel, extDefaults: { big: long(40_000) } }, status: 400, code: 'ext_too_large' }],
    ['extDefaults nested 20 deep', { body: { ...channel, extDefaults: JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) as unknown }, status: 400, code: 'ext_too_deep' }],
    ['a domain outside the registered ones', { body: { ...channel, domainPolicy: { webview: ['https://h5.not-registered.org'] } }, status: 400 }],
    ['a domain with a path', { body: { ...channel, domainPolicy: { server: { request: ['https://api.example.com/v1'] } } }, status: 400 }],
    ['a socket domain over https', { body: { ...channel, domainPolicy: { server: { socket: ['https://ws.example.com'] } } }, status: 400 }],
    ['an unknown domain list', { body: { ...channel, domainPolicy: { server: { requests: ['https://api.example.com'] } } }, status: 400 }],
    ['a domain policy naming no domain', { body: { ...channel, domainPolicy: {} }, status: 400 }],
    ['baseVersion -1', { body: { ...channel, baseVersion: -1 }, status: 400 }],
    ['autoRelease as text', { body: { ...channel, autoRelease: 'yes' }, status: 400 }],
  ] as const) {
    add(putChannel, what, { method: 'PUT', path: '/api/v1/channels/stable', code: 'invalid_request', ...request });
  }
  for (const [what, name] of [['capitals', 'Stable'], ['a space', 'a%20b'], ['33 characters', `a${long(32)}`], ['a leading digit', '1st']] as const) {
    add(putChannel, `name with ${what}`, { method: 'PUT', path: `/api/v1/channels/${name}`, body: channel, status: 400, code: 'invalid_request' });
    add('GET /api/v1/channels/{name}', `name with ${what}`, { method: 'GET', path: `/api/v1/channels/${name}`, status: 400, code: 'invalid_request' });
  }
  add('GET /api/v1/channels/{name}', 'an unknown channel', { method: 'GET', path: '/api/v1/channels/nope', status: 404, code: 'channel_not_found' });
  add('GET /api/v1/channels', 'a method the route does not have', { method: 'DELETE', path: '/api/v1/channels', status: 404, code: 'not_found' });
  add('GET /api/v1/onboarding', 'a method the route does not have', { method: 'POST', path: '/api/v1/onboarding', body: { enabled: true }, status: 404, code: 'not_found' });
  for (const [what, body] of [
    ['no enabled', { channel: 'stable' }],
    ['enabled as text', { enabled: 'yes', channel: 'stable' }],
    ['a bad channel name', { enabled: true, channel: 'Stable!' }],
    ['a channel that does not exist', { enabled: true, channel: 'nope' }],
    ['autoRelease as text', { enabled: false, channel: 'stable', autoRelease: 'no' }],
    ['an unknown field', { enabled: false, channel: 'stable', sweep: true }],
    ['an array body', [{ enabled: false, channel: 'stable' }]],
  ] as const) {
    add('PUT /api/v1/onboarding', what, { method: 'PUT', path: '/api/v1/onboarding', body, status: 400, code: 'invalid_request' });
  }
  add('GET /api/v1/merchants/{appId}/onboarding/plan', 'an unknown merchant', { method: 'GET', path: '/api/v1/merchants/ks_nobody/onboarding/plan', status: 404, code: 'merchant_not_found' });
  add('POST /api/v1/merchants/{appId}/onboarding/start', 'an unknown merchant', { method: 'POST', path: '/api/v1/merchants/ks_nobody/onboarding/start', status: 404, code: 'merchant_not_found' });
  const probe = 'POST /api/v1/platform/probe';
  add(probe, 'an unknown merchant', { method: 'POST', path: '/api/v1/platform/probe', body: { appId: 'ks_nobody' }, status: 404, code: 'merchant_not_found' });
  for (const [what, body] of [
    ['an app id with a space', { appId: 'ks 1' }],
    ['an app id 65 characters', { appId: long(65, 'a') }],
    ['an app id as a number', { appId: 1 }],
    ['an empty app id', { appId: '' }],
    ['an unknown field', { appId: APP, rows: ['A7'] }],
  ] as const) {
    add(probe, what, { method: 'POST', path: '/api/v1/platform/probe', body, status: 400, code: 'invalid_request' });
  }
  add(probe, 'a method the route does not have', { method: 'GET', path: '/api/v1/platform/probe', status: 404, code: 'not_found' });
  add('POST /api/v1/merchants/{appId}/onboarding/start', 'a method the route does not have', { method: 'PUT', path: `/api/v1/merchants/${APP}/onboarding/start`, status: 404, code: 'not_found' });
  add('GET /api/v1/merchants', 'onboarding=bogus', { method: 'GET', path: '/api/v1/merchants?onboarding=bogus', status: 400, code: 'invalid_request' });
  add('GET /api/v1/merchants', 'onboarding=stuck with status', { method: 'GET', path: '/api/v1/merchants?onboarding=stuck&status=authorized', status: 400, code: 'invalid_request' });
  add('POST /api/v1/rollouts', 'a promoteTo that is no channel name', { method: 'POST', path: '/api/v1/rollouts', body: { templateId: 1, userVersion: '9.9.9', userDesc: '', targets: { appIds: [APP] }, promoteTo: 'Not A Name' }, status: 400, code: 'invalid_request' });

  const listKeys = 'GET /api/v1/keys';
  add(listKeys, 'a method the route does not have', { method: 'PUT', path: '/api/v1/keys', body: { name: 'k', role: 'admin' }, status: 404, code: 'not_found' });
  const createKey = 'POST /api/v1/keys';
  for (const [what, body] of [
    ['missing name', { role: 'viewer' }],
    ['missing role', { name: 'k' }],
    ['empty name', { name: '', role: 'viewer' }],
    ['name 101 characters', { name: long(101), role: 'viewer' }],
    ['name an array of two', { name: ['a', 'b'], role: 'viewer' }],
    ['unknown role', { name: 'k', role: 'root' }],
    ['role in capitals', { name: 'k', role: 'ADMIN' }],
    ['role a number', { name: 'k', role: 3 }],
  ] as const) {
    add(createKey, what, { method: 'POST', path: '/api/v1/keys', body, status: 400, code: 'invalid_request' });
  }
  const revokeKey = 'DELETE /api/v1/keys/{id}';
  add(revokeKey, 'id 65 characters', { method: 'DELETE', path: `/api/v1/keys/${long(65)}`, status: 400, code: 'invalid_request' });
  add(revokeKey, 'id 101 characters', { method: 'DELETE', path: `/api/v1/keys/${long(101)}`, status: 414, code: 'invalid_request' });
  add(revokeKey, 'bad percent-encoding', { method: 'DELETE', path: '/api/v1/keys/%zz', status: 400, code: 'invalid_request' });
  add(revokeKey, 'unknown id', { method: 'DELETE', path: '/api/v1/keys/nosuchkey000', status: 404, code: 'key_not_found' });
  add(revokeKey, 'no id', { method: 'DELETE', path: '/api/v1/keys', status: 404, code: 'not_found' });
  return cases;
}

interface OpenApiOperation {
  summary?: string;
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: unknown;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every `$ref` value anywhere under `node`. */
function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refsIn(value, found);
    }
  }
  return found;
}

for (const dialect of dialectTargets()) {
  describe(`bad input on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;

    /** What bad input must leave alone: our records and the platform's. */
    const snapshot = async (): Promise<unknown> => {
      const merchants = await stack.api<{ items: unknown[] }>('GET', '/api/v1/merchants?limit=200');
      const merchant = await stack.api('GET', `/api/v1/merchants/${APP}`);
      const keys = await stack.api<{ items: Record<string, unknown>[] }>('GET', '/api/v1/keys');
      const pushes = await stack.api<{ items: unknown[] }>('GET', '/api/v1/push-events?limit=200');
      return {
        merchants: merchants.json.items,
        merchant: merchant.json,
        auditLog: (await auditLog(stack)).map((entry) => entry.id),
        // lastUsedAt moves with every authenticated request (at most once a minute).
        keys: keys.json.items.map((key) => ({ ...key, lastUsedAt: null })),
        pushes: pushes.json.items.length,
        sandbox: await sandboxState(stack),
        calls: await sandboxCalls(stack),
      };
    };

    before(async () => {
      stack = await startStack(dialect);
      await stack.ready();
      await authorizeMerchant(stack, APP);
      const upload = await stack.api('POST', `${M}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', extJson: { shopId: 1 } } });
      assert.equal(upload.status, 200);
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('every /api/v1 route answers bad input with the right 4xx, an error body and no change anywhere', async () => {
      const before = await snapshot();
      const cases = badRequests();
      const failures: string[] = [];
      for (const bad of cases) {
        const answer: ApiAnswer<unknown> = await stack.api(bad.method, bad.path, {
          ...(bad.body !== undefined ? { body: bad.body } : {}),
          ...(bad.raw !== undefined ? { raw: bad.raw } : {}),
          ...(bad.headers ? { headers: bad.headers } : {}),
          // A case that brings its own Authorization header is sent with it alone.
          ...(bad.headers?.authorization ? { key: null } : {}),
        });
        try {
          assertError(answer, bad.status, bad.code, `${bad.route} (${bad.what}):`);
        } catch (error) {
          failures.push(error instanceof Error ? error.message.split('\n')[0]! : String(error));
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} bad requests were not answered as expected`);
      assert.deepEqual(await snapshot(), before, 'no bad request changed our records or reached the platform');
    });

    test('JSON bodies are never coerced: values of the wrong type are refused, not converted', async () => {
      const before = await snapshot();
      const cases: [string, string, unknown][] = [
        ['POST', `${M}/code`, { templateId: true, userVersion: '2.0.0', extJson: {} }],
        ['POST', `${M}/code`, { templateId: 1, userVersion: 2, extJson: {} }],
        ['POST', `${M}/code`, { templateId: null, userVersion: '2.0.0', extJson: {} }],
        ['POST', `${M}/domains/webview`, { action: 'set', domains: 'https://a.example.com' }],
        ['POST', '/api/v1/authorizations', { redirectUri: 'javascript:alert(1)' }],
      ];
      for (const [method, path, body] of cases) {
        assertError(await stack.api(method, path, { key: stack.keys.operator, body }), 400, 'invalid_request', `${path} ${JSON.stringify(body)}`);
      }
      assert.deepEqual(await snapshot(), before);
    });

    test('the Bearer scheme name is case-insensitive', async () => {
      const answer = await stack.api('GET', '/api/v1/merchants', { key: null, headers: { authorization: `bearer ${stack.keys.viewer}` } });
      assert.equal(answer.status, 200);
    });

    test('the bad-input table covers every /api/v1 operation of the OpenAPI document', async () => {
      const spec = (await stack.api<OpenApiDocument>('GET', '/openapi.json', { key: null })).json;
      const documented = Object.entries(spec.paths)
        .filter(([path]) => path.startsWith('/api/v1/'))
        .flatMap(([path, operations]) => Object.keys(operations).filter((m) => METHODS.includes(m)).map((method) => `${method.toUpperCase()} ${path}`));
      const tested = new Set(badRequests().map((bad) => bad.route));
      assert.deepEqual(documented.filter((route) => !tested.has(route)), [], 'routes without a bad-input case');
      assert.deepEqual([...tested].filter((route) => !documented.includes(route)), [], 'cases for routes the document does not list');
    });

    test('unknown routes → 404 with the error body', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/api/v1'],
        ['GET', '/api/v1/nope'],
        ['GET', '/api/v2/merchants'],
        ['PUT', '/api/v1/merchants'],
        ['DELETE', `/api/v1/merchants/${APP}`],
        ['PATCH', `${M}/versions`],
        ['POST', `${M}/versions`],
        ['GET', `${M}/release`],
        ['GET', `${M}/capabilities`],
      ] as const) {
        const error = assertError(await stack.api(method, path), 404, 'not_found', `${method} ${path}`);
        assert.match(error.message, /no route/);
      }
      assertError(await stack.api('GET', '/api/v1/nope', { key: null }), 404, 'not_found', 'without a key');
    });

    test('GET /healthz and /readyz', async () => {
      const health = await stack.api('GET', '/healthz', { key: null });
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { ok: true });
      const ready = await stack.api('GET', '/readyz', { key: null });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { ok: true, database: dialect.name });
    });

    test('GET /metrics: Prometheus text with HTTP and upstream counters', async () => {
      assertError(await stack.api('GET', '/api/v1/merchants?limit=0'), 400);
      const metrics = await stack.api('GET', '/metrics', { key: null });
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      const text = metrics.bytes.toString('utf8');
      assert.match(text, /^# TYPE ksisv_http_requests_total counter$/m);
      assert.match(text, /^ksisv_http_requests_total\{method="GET",route="\/api\/v1\/merchants",status="400"\} \d+$/m);
      assert.match(text, /^ksisv_http_requests_total\{method="POST",route="\/api\/v1\/merchants\/:appId\/code",status="200"\} 1$/m);
      assert.match(text, /^# TYPE ksisv_upstream_calls_total counter$/m);
      assert.match(text, /^ksisv_upstream_calls_total\{operation="uploadCode",result="http_2xx"\} 1$/m);
      for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
        // prom-client writes durations and process metrics as floats (1.5e-7), NaN as "Nan"; names may hold digits (p50).
        assert.match(line, /^[a-z_][a-z0-9_]*(\{[^}]*\})? (-?\d+(\.\d+)?(e[+-]?\d+)?|Nan|[+-]Inf)$/, `a sample line: ${line}`);
      }
    });

    test('GET /openapi.json: an OpenAPI 3.1 document; every operation has a summary and declares its errors', async () => {
      const answer = await stack.api<OpenApiDocument>('GET', '/openapi.json', { key: null });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      const spec = answer.json;
      assert.equal(spec.openapi, '3.1.0');
      assert.ok(spec.info.title && spec.info.version);
      assert.ok(spec.components.securitySchemes.apiKey, 'bearer API keys');
      assert.ok(!Object.keys(spec.paths).some((path) => path.startsWith('/callbacks')), 'push receivers are not part of the API');

      for (const ref of refsIn(spec)) {
        const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
        assert.ok(name && spec.components.schemas[name], `${ref} resolves`);
      }
      let operations = 0;
      for (const [path, item] of Object.entries(spec.paths)) {
        const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
        for (const [method, operation] of Object.entries(item)) {
          if (!METHODS.includes(method)) continue;
          operations++;
          const where = `${method.toUpperCase()} ${path}`;
          assert.ok(operation.summary, `${where} has a summary`);
          assert.ok(operation.responses && Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status)), `${where} declares its success`);
          const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
          assert.deepEqual(declared.sort(), [...pathParams].sort(), `${where} declares its path parameters`);
          if (!path.startsWith('/api/v1/')) continue;
          const expected = ['400', '401', '403', ...(pathParams.length > 0 ? ['404'] : []), ...(path.startsWith('/api/v1/merchants/{appId}/') ? ['409', '422', '502', '503'] : [])];
          for (const status of expected) {
            const response: { content?: Record<string, { schema?: unknown }> } | undefined = operation.responses?.[status];
            assert.ok(response, `${where} declares ${status}`);
            assert.deepEqual(response.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${where} ${status} is the error body`);
          }
        }
      }
      assert.ok(operations >= 22, `${operations} operations`);
    });

    test('GET /docs serves the browsable HTML documentation', async () => {
      const docs = await fetch(`${stack.url}/docs`);
      assert.equal(docs.status, 200);
      assert.match(docs.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await docs.text(), /swagger-ui/i);
    });
  });
}
