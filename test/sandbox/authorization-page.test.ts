/**
 * T7 over plain HTTP, as a browser drives it: the authorization page (merchant login → pick a mini-program
 * and permission sets → confirm → 302 to redirect_uri with the code), its refusals, the sandbox home with
 * its revoke form, and HTML escaping of everything a user can name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PushReceiver } from '../helpers/push-receiver.ts';
import { startRawSandbox as startSandbox, type RawSandbox as Started } from '../helpers/raw-sandbox.ts';


// ---- browser-ish helpers ---------------------------------------------------------------------------------

interface Page {
  status: number;
  location: string | null;
  contentType: string;
  html: string;
}

async function get(url: string): Promise<Page> {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), contentType: response.headers.get('content-type') ?? '', html: await response.text() };
}

async function postForm(url: string, fields: [string, string][]): Promise<Page> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), contentType: response.headers.get('content-type') ?? '', html: await response.text() };
}

function assertErrorPage(page: Page, pattern?: RegExp): void {
  assert.equal(page.status, 400, page.html.slice(0, 300));
  assert.match(page.contentType, /^text\/html/);
  assert.match(page.html, /授权失败/);
  assert.equal(page.location, null);
  if (pattern) assert.match(page.html, pattern);
}

const REDIRECT_URI = 'https://isv.example.com/kuaishou/callback?state=s-42';
const APP_1 = 'ks0000000000000001'; // merchant m000001
const APP_2 = 'ks0000000000000002'; // merchant m000002

describe('sandbox authorization page (T7)', () => {
  let s: Started;
  let receiver: PushReceiver;
  let componentToken = '';
  const AUTHORIZE = '/mp/tp/authorize';

  const preAuthCode = async (): Promise<string> => (await s.client.createPreAuthCode(componentToken)).preAuthCode;

  /** The confirm form's fields, as the page for m000001 would post them. */
  const form = (code: string, overrides: Partial<Record<string, string | string[]>> = {}): [string, string][] => {
    const fields: Record<string, string | string[]> = {
      component_app_id: s.keys.componentAppId,
      pre_auth_code: code,
      redirect_uri: REDIRECT_URI,
      merchant_id: 'm000001',
      app_id: APP_1,
      permission: ['1', '2'],
      ...overrides,
    };
    return Object.entries(fields).flatMap(([name, value]) => (Array.isArray(value) ? value.map((v): [string, string] => [name, v]) : [[name, value]]));
  };

  before(async () => {
    s = await startSandbox();
    receiver = await PushReceiver.start(s.keys);
    await s.control('PUT', '/sandbox/api/component', { authEventUrl: receiver.authEventUrl, messageUrl: receiver.messageUrl });
    // A component token: a ticket pushed by the control API, read where the service would read it.
    assert.equal((await s.control('POST', '/sandbox/api/tickets')).status, 201);
    const ticket = await receiver.waitForEvent('ticket');
    assert.ok(Object.hasOwn(s.sandbox.runtime.state.data.credentials.tickets, ticket.event.ticket));
    componentToken = (await s.client.getComponentAccessToken(ticket.event.ticket)).accessToken;
  });

  after(async () => {
    await s.sandbox.close();
    await receiver.close();
  });

  test('merchant login → app and permission sets → confirm → 302 to redirect_uri; the code works for T4 and was pushed', async () => {
    const code = await preAuthCode();
    const pageUrl = s.client.authorizationPageUrl({ preAuthCode: code, redirectUri: REDIRECT_URI });
    assert.ok(pageUrl.startsWith(`${s.url}${AUTHORIZE}?`));

    // Step 1: who are you? Every seeded merchant is offered; the page carries the request on.
    const login = await get(pageUrl);
    assert.equal(login.status, 200);
    assert.match(login.contentType, /^text\/html/);
    for (const [id, name] of [['m000001', '川味小馆'], ['m000005', '鲜果时光']]) {
      assert.ok(login.html.includes(`<option value="${id}">${name}（${id}）</option>`), `merchant ${id} listed`);
    }
    assert.ok(login.html.includes(`name="pre_auth_code" value="${code}"`));
    assert.ok(login.html.includes('name="redirect_uri" value="https://isv.example.com/kuaishou/callback?state=s-42"'));
    assert.match(login.html, /<form method="get" action="\/mp\/tp\/authorize">/);

    // Step 2: the merchant's app, the four permission sets, a POST form.
    const pick = await get(`${pageUrl}&merchant_id=m000001`);
    assert.equal(pick.status, 200);
    assert.match(pick.html, /当前登录：<b>川味小馆<\/b>/);
    assert.ok(pick.html.includes(`name="app_id" value="${APP_1}"`));
    assert.ok(!pick.html.includes(APP_2), 'only the merchant’s own apps');
    const boxes = [...pick.html.matchAll(/<input type="checkbox" name="permission" value="(\d)"/g)].map((m) => m[1]);
    assert.deepEqual(boxes, ['1', '2', '3', '4']);
    assert.match(pick.html, /<form method="post" action="\/mp\/tp\/authorize">/);
    assert.ok(pick.html.includes('name="merchant_id" value="m000001"'));
    // The typed-in merchant id works the same.
    const typed = await get(`${pageUrl}&merchant_id_typed=${encodeURIComponent(' m000001 ')}`);
    assert.ok(typed.html.includes(`name="app_id" value="${APP_1}"`));

    // Step 3: confirm with sets 1 and 2.
    const confirmed = await postForm(`${s.url}${AUTHORIZE}`, form(code));
    assert.equal(confirmed.status, 302, confirmed.html.slice(0, 300));
    const location = new URL(confirmed.location ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://isv.example.com/kuaishou/callback');
    assert.equal(location.searchParams.get('state'), 's-42', 'redirect_uri’s own query is kept');
    const authorizationCode = location.searchParams.get('authorization_code') ?? '';
    assert.match(authorizationCode, /^authcode_/);
    assert.equal(location.searchParams.get('expires_in'), '3600');

    const pushed = await receiver.waitForEvent('authorized', (event) => event.appId === APP_1);
    assert.equal(pushed.event.authorizationCode, authorizationCode);
    assert.deepEqual(pushed.event.permissions.map((p) => p.id), [1, 2]);

    const tokens = await s.client.exchangeAuthorizationCode(componentToken, authorizationCode);
    assert.equal(tokens.appId, APP_1);
    assert.deepEqual(tokens.permissions.map((p) => p.id), [1, 2]);
    assert.deepEqual(await s.client.getVersions(tokens.accessToken), {});

    // A pre-auth code opens the page once.
    assertErrorPage(await postForm(`${s.url}${AUTHORIZE}`, form(code)), /already used/);
    assertErrorPage(await get(pageUrl), /already used/);
    // Still exactly one AUTHORIZED push for it.
    assert.equal(receiver.events('authorized', (event) => event.appId === APP_1).length, 1);
  });

  test('unknown or expired pre-auth codes, a foreign component and a bad redirect_uri get an error page (400)', async () => {
    assertErrorPage(await get(s.client.authorizationPageUrl({ preAuthCode: 'preauth_unknown', redirectUri: REDIRECT_URI })), /unknown pre_auth_code/);
    assertErrorPage(await get(`${s.url}${AUTHORIZE}?component_app_id=${s.keys.componentAppId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`));
    assertErrorPage(await postForm(`${s.url}${AUTHORIZE}`, form('preauth_unknown')), /unknown pre_auth_code/);
    for (const name of ['__proto__', 'constructor', 'toString']) {
      assertErrorPage(await get(s.client.authorizationPageUrl({ preAuthCode: name, redirectUri: REDIRECT_URI })));
      assertErrorPage(await postForm(`${s.url}${AUTHORIZE}`, form(name)));
    }

    const expired = await preAuthCode();
    s.sandbox.runtime.state.data.credentials.preAuthCodes[expired]!.expiresAt = Date.now() - 1;
    assertErrorPage(await get(s.client.authorizationPageUrl({ preAuthCode: expired, redirectUri: REDIRECT_URI })), /expired/);
    assertErrorPage(await postForm(`${s.url}${AUTHORIZE}`, form(expired)), /expired/);

    const code = await preAuthCode();
    const other = new URL(s.client.authorizationPageUrl({ preAuthCode: code, redirectUri: REDIRECT_URI }));
    other.searchParams.set('component_app_id', 'ks_other_component');
    assertErrorPage(await get(other.toString()), /component_app_id/);
    for (const redirectUri of ['javascript:alert(1)', 'not a url', '']) {
      assertErrorPage(await get(s.client.authorizationPageUrl({ preAuthCode: code, redirectUri })), /redirect_uri/);
      assertErrorPage(await postForm(`${s.url}${AUTHORIZE}`, form(code, { redirect_uri: redirectUri })), /redirect_uri/);
    }
  });

  test('another merchant’s app, no permission ticked or an unknown set → 400, and the pre-auth code is not spent', async () => {
    const code = await preAuthCode();
    const refusals: [string, Partial<Record<string, string | string[]>>, RegExp][] = [
      ['an app of another merchant', { app_id: APP_2 }, /pick one of your own mini-programs/],
      ['an unknown merchant', { merchant_id: 'm999999' }, /pick one of your own/],
      ['a prototype key as merchant', { merchant_id: '__proto__' }, /pick one of your own/],
      ['no app', { app_id: '' }, /pick one of your own/],
      ['no permission ticked', { permission: [] }, /请至少勾选一个权限集/],
      ['an unknown permission set', { permission: ['1', '9'] }, /unknown permission set/],
      ['a permission that is not a number', { permission: ['abc'] }, /permission set/],
    ];
    for (const [what, overrides, pattern] of refusals) {
      const page = await postForm(`${s.url}${AUTHORIZE}`, form(code, overrides));
      assertErrorPage(page, pattern);
      assert.ok(!page.html.includes('authcode_'), what);
    }
    assert.equal(receiver.events('authorized', (event) => event.appId === APP_2).length, 0);
    assert.equal(s.sandbox.runtime.state.app(APP_2)?.authorization, undefined);

    // None of those spent the code: the merchant can still confirm properly (3 and 4 this time).
    const confirmed = await postForm(`${s.url}${AUTHORIZE}`, form(code, { merchant_id: 'm000002', app_id: APP_2, permission: ['4', '3'] }));
    assert.equal(confirmed.status, 302, confirmed.html.slice(0, 300));
    const authorizationCode = new URL(confirmed.location ?? '').searchParams.get('authorization_code') ?? '';
    const tokens = await s.client.exchangeAuthorizationCode(componentToken, authorizationCode);
    assert.equal(tokens.appId, APP_2);
    assert.deepEqual(tokens.permissions.map((p) => p.id), [3, 4]);
  });

  test('the /sandbox home lists authorized apps with a revoke form; revoking pushes UNAUTHORIZED', async () => {
    // Authorized on the page, by merchant m000003.
    const confirmed = await postForm(`${s.url}${AUTHORIZE}`, form(await preAuthCode(), { merchant_id: 'm000003', app_id: 'ks0000000000000003', permission: ['3', '1'] }));
    assert.equal(confirmed.status, 302, confirmed.html.slice(0, 300));

    const home = await get(`${s.url}/sandbox`);
    assert.equal(home.status, 200);
    assert.match(home.contentType, /^text\/html/);
    const row = (html: string, appId: string): string => {
      const found = html.split('<tr>').find((tr) => tr.includes(`<span class="muted">${appId}</span>`));
      assert.ok(found, `row of ${appId}`);
      return found;
    };
    const row3 = row(home.html, 'ks0000000000000003');
    assert.match(row3, /已授权 1,3/);
    assert.match(row3, /<form method="post" action="\/sandbox\/revoke"/);
    assert.ok(row3.includes('name="app_id" value="ks0000000000000003"'));
    assert.match(row(home.html, 'ks0000000000000004'), /未授权/);
    assert.doesNotMatch(row(home.html, 'ks0000000000000004'), /\/sandbox\/revoke/);

    const revoked = await postForm(`${s.url}/sandbox/revoke`, [['app_id', 'ks0000000000000003'], ['page', '1']]);
    assert.equal(revoked.status, 303);
    assert.equal(revoked.location, '/sandbox?page=1');
    const pushed = await receiver.waitForEvent('unauthorized', (event) => event.appId === 'ks0000000000000003');
    assert.equal(pushed.path, 'authEvent');
    const after = await get(`${s.url}/sandbox`);
    assert.match(row(after.html, 'ks0000000000000003'), /未授权/);
    assert.doesNotMatch(row(after.html, 'ks0000000000000003'), /\/sandbox\/revoke/);

    // Revoking what is not authorized, an unknown app or nothing: an error page, no push.
    const unauthorizedPushes = receiver.events('unauthorized').length;
    for (const fields of [[['app_id', 'ks0000000000000003']], [['app_id', 'ks_nope']], [['app_id', '__proto__']], []] as [string, string][][]) {
      assertErrorPage(await postForm(`${s.url}/sandbox/revoke`, fields));
    }
    assert.equal(receiver.events('unauthorized').length, unauthorizedPushes);
  });

  test('names a user chose are HTML-escaped on every page', async () => {
    const prefix = '<script>alert("x")</script>';
    const created = await s.control<{ merchants: { merchantId: string; name: string; appIds: string[] }[] }>('POST', '/sandbox/api/merchants', { namePrefix: prefix });
    assert.equal(created.status, 201);
    const [merchant] = created.body.merchants;
    assert.ok(merchant);
    assert.ok(merchant.name.startsWith(prefix));
    const escaped = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;';

    const code = await preAuthCode();
    const pageUrl = s.client.authorizationPageUrl({ preAuthCode: code, redirectUri: 'https://isv.example.com/cb?q="><script>x</script>' });
    const pages = [
      await get(pageUrl),
      await get(`${pageUrl}&merchant_id=${merchant.merchantId}`),
      await get(`${s.url}/sandbox`),
      await get(`${s.url}/sandbox?page=1`),
    ];
    for (const page of pages) {
      assert.equal(page.status, 200);
      assert.ok(page.html.includes(escaped), 'the name is shown, escaped');
      assert.ok(!page.html.includes('<script>'), 'no raw markup from user input');
    }
    // Escaped in attributes too: the redirect_uri carried in hidden fields.
    assert.ok(pages[0]!.html.includes('value="https://isv.example.com/cb?q=&#34;&#62;&#60;script&#62;x&#60;/script&#62;"'));
    assert.ok(pages[1]!.html.includes(`${escaped} ${merchant.merchantId.slice(1).replace(/^0+/, '')}小程序`));
  });
});
