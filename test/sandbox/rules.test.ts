/**
 * The sandbox's platform rules, driven over HTTP by the real client: credentials and their lifetimes,
 * permission sets, domain rules, the version state machine, QR codes, capabilities, templates and the
 * call counts. Every forbidden transition asserts the exact platform error of `ERROR_CODES`.
 */
import assert from 'node:assert/strict';
import { pruneExpired } from '../../src/sandbox/rules/credentials.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CAPABILITIES,
  CAPABILITY_WIRE,
  credentialKeys,
  MemoryTokenStore,
  NoTicketError,
  NotAuthorizedError,
  type AuthorizerTokens,
  type Capability,
  type KuaishouClient,
  type KuaishouPlatform,
  type MerchantUploadInput,
  type UploadCodeInput,
  type Versions,
} from '../../src/kuaishou/index.ts';
import { assertApiError, SEEDED_APP_IDS, startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const HOUR_MS = 3_600_000;

/** An upload with this custom config (the platform client builds the ext.json), or this raw ext_json text. */
const upload = (userVersion: string, ext: Record<string, unknown> | string = { shopName: 'demo' }, templateId = 1): MerchantUploadInput | UploadCodeInput => {
  const version = { templateId, userVersion, userDesc: `version ${userVersion}` };
  return typeof ext === 'string' ? { ...version, extJson: ext } : { ...version, ext };
};

/** A7 until `pick` returns something, e.g. until the audit has been decided. */
function waitForVersions<T>(ks: KuaishouPlatform, appId: string, pick: (versions: Versions) => T | undefined, what: string): Promise<T> {
  return waitFor(async () => pick(await ks.getVersions(appId)), { what });
}

function assertPng(bytes: Uint8Array, contentType: string): void {
  assert.match(contentType, /^image\/png/);
  assert.deepEqual([...bytes.subarray(0, 8)], PNG_SIGNATURE);
  assert.ok(bytes.length > 100, 'a real image, not just a signature');
}

// ---- Tokens and authorization (T1–T6) -------------------------------------------------------------------

describe('tokens and authorization (T1–T6)', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  let client: KuaishouClient;
  /** A live component access token, for raw client calls. */
  let componentToken: string;

  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    client = sb.client();
    await sb.ticket();
    componentToken = await ks.tokens.getComponentAccessToken();
  });
  after(() => sb.close());

  test('T1 with a wrong secret or an unknown component app → INVALID_CLIENT', async () => {
    await assertApiError(sb.client({ componentAppSecret: 'not-the-secret' }).startPushTicket(), 'INVALID_CLIENT');
    await assertApiError(sb.client({ componentAppId: 'ks_someone_else' }).startPushTicket(), 'INVALID_CLIENT');
    await assertApiError(sb.client({ componentAppSecret: 'not-the-secret' }).getComponentAccessToken('any'), 'INVALID_CLIENT');
    assert.equal(sb.sandbox.runtime.state.data.ticketPushStarted, false, 'a refused T1 starts nothing');
  });

  test('T1 with the right secret starts ticket pushes: a new ticket is issued shortly', async () => {
    const ticketPushes = async (): Promise<number> => (await sb.control<{ total: number }>('GET', '/pushes?event=ticket')).json.total;
    const pushesBefore = await ticketPushes();
    const ticketsBefore = Object.keys(sb.sandbox.runtime.state.data.credentials.tickets).length;
    assert.deepEqual(await client.startPushTicket(), {});
    assert.equal(sb.sandbox.runtime.state.data.ticketPushStarted, true);
    await waitFor(async () => ((await ticketPushes()) > pushesBefore ? true : undefined), { what: 'a ticket push' });
    assert.equal(await ticketPushes(), pushesBefore + 1, 'one push now, the next one an interval later');
    const tickets = Object.keys(sb.sandbox.runtime.state.data.credentials.tickets);
    assert.equal(tickets.length, ticketsBefore + 1);
    assert.deepEqual(Object.keys(await client.getComponentAccessToken(tickets.at(-1)!)).sort(), ['accessToken', 'expiresInS']);
  });

  test('T2 with an unknown ticket → TICKET_INVALID; with a pushed ticket → a token; older tickets stay valid', async () => {
    await assertApiError(client.getComponentAccessToken('ticket_unknown'), 'TICKET_INVALID');
    const first = await sb.ticket(sb.platform({}));
    const second = await sb.ticket(sb.platform({}));
    assert.notEqual(first.ticket, second.ticket);
    for (const { ticket } of [first, second]) {
      const token = await client.getComponentAccessToken(ticket);
      assert.match(token.accessToken, /^ctoken_/);
      assert.equal(token.expiresInS, sb.sandbox.runtime.state.component.tokenTtlS);
    }
    // Each T2 issues a new component token, and the old ones stay valid.
    const a = await client.getComponentAccessToken(first.ticket);
    const b = await client.getComponentAccessToken(first.ticket);
    assert.notEqual(a.accessToken, b.accessToken);
    await client.createPreAuthCode(a.accessToken);
    await client.createPreAuthCode(b.accessToken);
  });

  test('T2 through the platform: a rejected stored ticket becomes NoTicketError', async () => {
    const fresh = sb.platform({});
    await fresh.tokens.storeTicket('ticket_forged', 3600);
    await assert.rejects(fresh.listTemplates(), NoTicketError);
    assert.equal(await fresh.tokens.hasValidTicket(), false, 'the rejected ticket is dropped');
  });

  test('component and authorizer calls with a token the platform never issued → TOKEN_INVALID', async () => {
    await assertApiError(client.createPreAuthCode('ctoken_forged'), 'TOKEN_INVALID');
    await assertApiError(client.listTemplates('ctoken_forged'), 'TOKEN_INVALID');
    await assertApiError(client.getVersions('atoken_forged'), 'TOKEN_INVALID');
  });

  test('T3: a pre-authorization code valid 600 s, and an authorization link carrying it', async () => {
    const code = await client.createPreAuthCode(componentToken);
    assert.match(code.preAuthCode, /^preauth_/);
    assert.equal(code.expiresInS, 600);
    const started = Date.now();
    const link = await ks.createAuthorizationLink('https://isv.example.com/callback');
    const url = new URL(link.url);
    assert.equal(url.origin + url.pathname, `${sb.url}/mp/tp/authorize`);
    assert.equal(url.searchParams.get('component_app_id'), sb.sandbox.runtime.state.component.componentAppId);
    assert.ok(url.searchParams.get('pre_auth_code'));
    assert.ok(link.expiresAt >= started + 599_000 && link.expiresAt <= Date.now() + 600_000);
    const page = await sb.request(url.pathname + url.search);
    assert.equal(page.status, 200, 'the sandbox accepts its own pre-auth code on the authorization page');
  });

  test('T4 exchanges a code once; the same code again → INVALID_CODE', async () => {
    const [appId] = await sb.newApps(1);
    const code = await sb.authorizationCode(appId!, [1, 2]);
    const pair = await client.exchangeAuthorizationCode(componentToken, code);
    assert.equal(pair.appId, appId);
    assert.match(pair.accessToken, /^atoken_/);
    assert.match(pair.refreshToken, /^rtoken_/);
    assert.equal(pair.expiresInS, 7200);
    assert.equal(pair.refreshExpiresInS, 2_592_000);
    assert.deepEqual(pair.permissions.map((p) => p.id), [1, 2]);
    assert.deepEqual(pair.permissions.map((p) => p.category), ['development', 'basicInfo']);
    await assertApiError(client.exchangeAuthorizationCode(componentToken, code), 'INVALID_CODE');
    await assertApiError(client.exchangeAuthorizationCode(componentToken, 'authcode_forged'), 'INVALID_CODE');
    // The pair from the first exchange still works.
    assert.deepEqual(await client.getVersions(pair.accessToken), {});
  });

  test('T6 replaces the pair: the old refresh token → REFRESH_TOKEN_INVALID, the old access token → TOKEN_INVALID', async () => {
    const [appId] = await sb.newApps(1);
    const first = await client.exchangeAuthorizationCode(componentToken, await sb.authorizationCode(appId!));
    const second = await client.refreshAuthorizerToken(componentToken, { appId: appId!, refreshToken: first.refreshToken });
    assert.equal(second.appId, appId);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.deepEqual(second.permissions.map((p) => p.id), [1, 2, 3, 4]);

    await assertApiError(client.refreshAuthorizerToken(componentToken, { appId: appId!, refreshToken: first.refreshToken }), 'REFRESH_TOKEN_INVALID');
    await assertApiError(client.getVersions(first.accessToken), 'TOKEN_INVALID');
    assert.deepEqual(await client.getVersions(second.accessToken), {}, 'the new pair is the live one');

    // A refresh token only refreshes its own app.
    const [otherApp] = await sb.newApps(1);
    await sb.authorizationCode(otherApp!);
    await assertApiError(client.refreshAuthorizerToken(componentToken, { appId: otherApp!, refreshToken: second.refreshToken }), 'REFRESH_TOKEN_INVALID');

    // A new exchange (T4) also replaces the live pair.
    const third = await client.exchangeAuthorizationCode(componentToken, await sb.authorizationCode(appId!));
    await assertApiError(client.getVersions(second.accessToken), 'TOKEN_INVALID');
    await assertApiError(client.refreshAuthorizerToken(componentToken, { appId: appId!, refreshToken: second.refreshToken }), 'REFRESH_TOKEN_INVALID');
    assert.deepEqual(await client.getVersions(third.accessToken), {});
  });

  test('T5 for an authorized app returns a code T4 accepts; for a never-authorized or unknown app → NOT_AUTHORIZED', async () => {
    const [authorized, never] = await sb.newApps(2);
    await sb.authorize(authorized!);
    const recovered = await client.recoverAuthorizationCode(componentToken, authorized!);
    assert.match(recovered.authorizationCode, /^authcode_/);
    assert.equal(recovered.expiresInS, 3600);
    const pair = await client.exchangeAuthorizationCode(componentToken, recovered.authorizationCode);
    assert.equal(pair.appId, authorized);
    await assertApiError(client.exchangeAuthorizationCode(componentToken, recovered.authorizationCode), 'INVALID_CODE');

    await assertApiError(client.recoverAuthorizationCode(componentToken, never!), 'NOT_AUTHORIZED');
    await assertApiError(client.recoverAuthorizationCode(componentToken, 'ks_does_not_exist'), 'NOT_AUTHORIZED');
  });

  test('T5 through the platform: a client that lost its pair recovers it; a never-authorized app is NotAuthorizedError', async () => {
    const [appId, never] = await sb.newApps(2);
    await sb.authorize(appId!);
    const amnesiac = sb.platform({});
    await sb.ticket(amnesiac);
    assert.deepEqual(await amnesiac.getVersions(appId!), {});
    const calls = (await sb.calls()).byApp[appId!];
    assert.equal(calls?.recoverAuthorizationCode?.ok, 1);
    assert.equal(calls?.exchangeAuthorizationCode?.ok, 2, 'the harness exchange, then the recovery exchange');
    await assert.rejects(amnesiac.getVersions(never!), NotAuthorizedError);
  });

  test('revocation: the old pair dies with the authorization (TOKEN_INVALID), codes and refreshes are refused', async () => {
    const [appId] = await sb.newApps(1);
    const pair = await client.exchangeAuthorizationCode(componentToken, await sb.authorizationCode(appId!));
    const pendingCode = await sb.authorizationCode(appId!);
    // Re-authorizing issued a new code without touching the live pair.
    const live = await client.exchangeAuthorizationCode(componentToken, await sb.authorizationCode(appId!));
    await assertApiError(client.getVersions(pair.accessToken), 'TOKEN_INVALID');

    const revoked = await sb.control('POST', '/revocations', { appId });
    assert.deepEqual(revoked, { status: 200, json: { appId, authorized: false } });

    // revokePair deletes the live pair, so the token is unknown rather than "revoked".
    await assertApiError(client.getVersions(live.accessToken), 'TOKEN_INVALID');
    await assertApiError(client.serverDomains(live.accessToken, { action: 'get' }), 'TOKEN_INVALID');
    await assertApiError(client.refreshAuthorizerToken(componentToken, { appId: appId!, refreshToken: live.refreshToken }), 'REFRESH_TOKEN_INVALID');
    await assertApiError(client.recoverAuthorizationCode(componentToken, appId!), 'NOT_AUTHORIZED');
    // A code issued before the revocation dies with it, even once the merchant authorizes again.
    await sb.control('POST', '/authorizations', { appId, permissions: [1] });
    await assertApiError(client.exchangeAuthorizationCode(componentToken, pendingCode), 'INVALID_CODE');
    await sb.control('POST', '/revocations', { appId });

    // Revoking twice is a conflict.
    const again = await sb.control<{ error: { code: string } }>('POST', '/revocations', { appId });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'not_authorized');
  });

  test('expired credentials are pruned; live ones are kept', async () => {
    const own = await startSandbox();
    try {
      await own.ticket();
      await own.authorize(SEEDED_APP_IDS[0]);
      const { state } = own.sandbox.runtime;
      const { credentials } = state.data;
      assert.equal(pruneExpired(state), 0, 'nothing has expired yet');
      assert.ok(Object.keys(credentials.componentTokens).length > 0);
      const pruned = pruneExpired(state, Date.now() + 10 * 365 * 24 * 3_600_000);
      assert.ok(pruned >= 3, `pruned ${pruned}`);
      assert.equal(Object.keys(credentials.componentTokens).length, 0);
      assert.equal(Object.keys(credentials.authorizerTokens).length, 0);
    } finally {
      await own.close();
    }
  });

  test('revocation through the platform: the stored pair fails, recovery is refused → NotAuthorizedError; re-authorizing works', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    assert.deepEqual(await ks.getVersions(appId!), {});
    await sb.control('POST', '/revocations', { appId });
    await assert.rejects(ks.getVersions(appId!), NotAuthorizedError);
    const grant = await sb.authorize(appId!, [1]);
    assert.deepEqual(grant.permissions.map((p) => p.id), [1]);
    assert.deepEqual(await ks.getVersions(appId!), {});
  });
});

describe('lifetimes: tokens, tickets and refresh tokens expire', () => {
  let sb: SandboxHarness;
  let client: KuaishouClient;
  let componentAppId: string;
  /** Valid 3 h (issued before the short lifetimes were configured). */
  let longTicket: string;
  /** Valid 1 s. */
  let shortTicket: string;
  /** A component token valid 1 s. */
  let componentToken: string;
  /** An app whose pair's access token lived 1 s, its refresh token 30 days. */
  let appId: string;
  let pair: AuthorizerTokens;
  /** An app whose pair lived 1 s, refresh token included. */
  let staleAppId: string;
  let stalePair: AuthorizerTokens;

  before(async () => {
    sb = await startSandbox();
    client = sb.client();
    componentAppId = sb.sandbox.runtime.state.component.componentAppId;
    ({ ticket: longTicket } = await sb.ticket(sb.platform({})));
    const setupToken = (await client.getComponentAccessToken(longTicket)).accessToken;
    [appId, staleAppId] = (await sb.newApps(2)) as [string, string];
    const [code, staleCode] = [await sb.authorizationCode(appId), await sb.authorizationCode(staleAppId)];

    // Only the credentials issued between the two PUTs are short-lived, so a slow machine cannot make the
    // setup itself trip over an expiry.
    const configure = async (patch: Record<string, number>): Promise<void> => {
      assert.equal((await sb.control('PUT', '/component', patch)).status, 200);
    };
    await configure({ tokenTtlS: 1 });
    componentToken = (await client.getComponentAccessToken(longTicket)).accessToken;
    pair = await client.exchangeAuthorizationCode(setupToken, code);
    await configure({ refreshTokenTtlS: 1, ticketTtlS: 1 });
    stalePair = await client.exchangeAuthorizationCode(setupToken, staleCode);
    ({ ticket: shortTicket } = await sb.ticket(sb.platform({})));
    await configure({ tokenTtlS: 7200, refreshTokenTtlS: 2_592_000, ticketTtlS: 10_800 });
    assert.deepEqual([pair.expiresInS, pair.refreshExpiresInS], [1, 2_592_000]);
    assert.deepEqual([stalePair.expiresInS, stalePair.refreshExpiresInS], [1, 1]);

    await new Promise((resolve) => setTimeout(resolve, 1100));
  });
  after(() => sb.close());

  test('an expired component token → TOKEN_EXPIRED on component calls', async () => {
    await assertApiError(client.createPreAuthCode(componentToken), 'TOKEN_EXPIRED');
    await assertApiError(client.listTemplates(componentToken), 'TOKEN_EXPIRED');
    await assertApiError(client.exchangeAuthorizationCode(componentToken, await sb.authorizationCode(appId)), 'TOKEN_EXPIRED');
  });

  test('an expired authorizer token → TOKEN_EXPIRED; an expired refresh token → REFRESH_TOKEN_INVALID', async () => {
    await assertApiError(client.getVersions(pair.accessToken), 'TOKEN_EXPIRED');
    const fresh = (await client.getComponentAccessToken(longTicket)).accessToken;
    await assertApiError(client.refreshAuthorizerToken(fresh, { appId: staleAppId, refreshToken: stalePair.refreshToken }), 'REFRESH_TOKEN_INVALID');
    // The 30-day refresh token of the other app is not affected.
    assert.ok((sb.sandbox.runtime.state.data.credentials.refreshTokens[pair.refreshToken]?.expiresAt ?? 0) > Date.now());
  });

  test('an expired ticket → TICKET_INVALID; an older ticket with a longer life still works', async () => {
    await assertApiError(client.getComponentAccessToken(shortTicket), 'TICKET_INVALID');
    assert.equal((await client.getComponentAccessToken(longTicket)).expiresInS, 7200);
  });

  test('through KuaishouPlatform: TOKEN_EXPIRED answers are recovered by itself (T2, T6, or T5 + T4)', async () => {
    // A client that still believes in its tokens (e.g. its clock lags): the platform says expired, and the
    // client invalidates, refreshes and retries once.
    const store = new MemoryTokenStore();
    const believed = { expiresAt: Date.now() + HOUR_MS };
    await store.compareAndSet(credentialKeys.componentToken(componentAppId), undefined, { value: componentToken, ...believed });
    for (const [app, stored] of [[appId, pair], [staleAppId, stalePair]] as const) {
      await store.compareAndSet(credentialKeys.authorizer(componentAppId, app), undefined, {
        value: stored.accessToken,
        refreshToken: stored.refreshToken,
        refreshExpiresAt: Date.now() + 24 * HOUR_MS,
        ...believed,
      });
    }
    const ks = sb.platform({ store, tokens: { refreshSkewMs: 0 } });
    await ks.tokens.storeTicket(longTicket, 3600);

    const before = await sb.calls();
    assert.equal((await ks.listTemplates()).length, 2);
    assert.deepEqual(await ks.getVersions(appId), {});
    assert.deepEqual(await ks.getVersions(staleAppId), {});
    const after = await sb.calls();
    const delta = (operation: string, field: 'calls' | 'ok'): number =>
      (after.byOperation[operation]?.[field] ?? 0) - (before.byOperation[operation]?.[field] ?? 0);
    assert.deepEqual([delta('listTemplates', 'calls'), delta('listTemplates', 'ok')], [2, 1], 'rejected once, then retried');
    assert.deepEqual([delta('getVersions', 'calls'), delta('getVersions', 'ok')], [4, 2], 'each app rejected once, then retried');
    assert.equal(delta('getComponentAccessToken', 'ok'), 1, 'one new component token');
    // appId: its refresh token refreshes; staleAppId: its refresh token is refused, recovered through T5.
    assert.deepEqual([delta('refreshAuthorizerToken', 'calls'), delta('refreshAuthorizerToken', 'ok')], [2, 1]);
    assert.equal(after.byApp[staleAppId]?.recoverAuthorizationCode?.ok, 1);
    assert.equal(after.byApp[appId]?.recoverAuthorizationCode, undefined);
  });
});

// ---- Permission sets -----------------------------------------------------------------------------------

describe('permission sets are enforced on every authorized call', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    await sb.ticket();
  });
  after(() => sb.close());

  test('only set 1 (development): server and webview domains → PERMISSION_DENIED, versions work', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!, [1]);
    await assertApiError(ks.serverDomains(appId!, { action: 'get' }), 'PERMISSION_DENIED');
    await assertApiError(ks.serverDomains(appId!, { action: 'add', request: ['https://api.example.com'] }), 'PERMISSION_DENIED');
    await assertApiError(ks.webviewDomains(appId!, { action: 'get' }), 'PERMISSION_DENIED');
    await assertApiError(ks.webviewDomains(appId!, { action: 'set', domains: ['https://h5.example.com'] }), 'PERMISSION_DENIED');
    assert.deepEqual(sb.sandbox.runtime.state.app(appId!)?.serverDomains.request, [], 'a denied call changes nothing');
    assert.deepEqual(await ks.getVersions(appId!), {});
  });

  test('only set 2 (basic information): every development call (A3–A9) → PERMISSION_DENIED, before any state rule', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!, [2]);
    await assertApiError(ks.uploadCode(appId!, upload('1.0.0')), 'PERMISSION_DENIED');
    await assertApiError(ks.submitAudit(appId!), 'PERMISSION_DENIED');
    await assertApiError(ks.withdrawAudit(appId!), 'PERMISSION_DENIED');
    await assertApiError(ks.getQrCode(appId!), 'PERMISSION_DENIED');
    await assertApiError(ks.getVersions(appId!), 'PERMISSION_DENIED');
    await assertApiError(ks.release(appId!), 'PERMISSION_DENIED');
    await assertApiError(ks.rollback(appId!), 'PERMISSION_DENIED');
    assert.equal(sb.sandbox.runtime.state.app(appId!)?.dev, undefined);
    assert.deepEqual((await ks.serverDomains(appId!, { action: 'get' })).request, []);
  });

  test('capabilities: short-video mount, live mount and publish need set 3; phone number needs set 4', async () => {
    const [without3, without4] = await sb.newApps(2);
    await sb.authorize(without3!, [1, 2, 4]);
    await sb.authorize(without4!, [1, 2, 3]);
    for (const capability of ['shortVideoMount', 'liveMount', 'publishKuaishou'] as const) {
      await assertApiError(ks.applyCapability(without3!, { capability }), 'PERMISSION_DENIED');
      await assertApiError(ks.getCapabilityStatus(without3!, capability), 'PERMISSION_DENIED');
      assert.equal((await ks.getCapabilityStatus(without4!, capability)).status, 'notApplied');
    }
    await assertApiError(ks.applyCapability(without4!, { capability: 'phoneNumber' }), 'PERMISSION_DENIED');
    await assertApiError(ks.getCapabilityStatus(without4!, 'phoneNumber'), 'PERMISSION_DENIED');
    assert.equal((await ks.getCapabilityStatus(without3!, 'phoneNumber')).status, 'notApplied');
    await ks.applyCapability(without3!, { capability: 'phoneNumber' });
    assert.deepEqual(Object.keys(sb.sandbox.runtime.state.app(without3!)!.capabilities), ['PHONE_NUMBER']);
    assert.deepEqual(sb.sandbox.runtime.state.app(without4!)!.capabilities, {}, 'denied applications leave no record');
  });

  test('re-authorizing with more sets takes effect for the new pair', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!, [1]);
    await assertApiError(ks.serverDomains(appId!, { action: 'get' }), 'PERMISSION_DENIED');
    const grant = await sb.authorize(appId!, [1, 2]);
    assert.deepEqual(grant.permissions.map((p) => p.id), [1, 2]);
    assert.deepEqual((await ks.serverDomains(appId!, { action: 'get' })).socket, []);
  });
});

// ---- Domains (A1/A2) -----------------------------------------------------------------------------------

describe('server and webview domains (A1/A2), registered domain example.com', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    await sb.ticket();
  });
  after(() => sb.close());

  const authorizedApp = async (): Promise<string> => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    return appId!;
  };

  test('add: the registered domain and its subdomains, each type with its own scheme, normalised', async () => {
    const appId = await authorizedApp();
    const domains = await ks.serverDomains(appId, {
      action: 'add',
      request: ['https://api.example.com', 'https://example.com', 'https://A.B.Example.COM'],
      socket: ['wss://ws.example.com'],
      uploadFile: ['https://upload.example.com'],
      downloadFile: ['https://cdn.example.com'],
      udp: ['udp://udp.example.com'],
    });
    assert.deepEqual(domains, {
      request: ['https://api.example.com', 'https://example.com', 'https://a.b.example.com'],
      socket: ['wss://ws.example.com'],
      uploadFile: ['https://upload.example.com'],
      downloadFile: ['https://cdn.example.com'],
      udp: ['udp://udp.example.com'],
    });
    assert.deepEqual(await ks.serverDomains(appId, { action: 'get' }), domains, 'get returns what was stored');
  });

  test('a scheme that does not fit the type → DOMAIN_SCHEME_INVALID, nothing changed', async () => {
    const appId = await authorizedApp();
    await ks.serverDomains(appId, { action: 'add', request: ['https://api.example.com'] });
    const cases: Parameters<KuaishouPlatform['serverDomains']>[1][] = [
      { action: 'add', request: ['http://api2.example.com'] },
      { action: 'add', uploadFile: ['http://up.example.com'] },
      { action: 'add', downloadFile: ['wss://dl.example.com'] },
      { action: 'add', socket: ['https://ws.example.com'] },
      { action: 'add', socket: ['ws://ws.example.com'] },
      { action: 'add', udp: ['https://udp.example.com'] },
      { action: 'add', request: ['api.example.com'] },
      { action: 'add', request: ['https://api.example.com/path'] },
      // One bad entry fails the whole call, including the good lists.
      { action: 'add', request: ['https://ok.example.com'], socket: ['http://ws.example.com'] },
      { action: 'set', request: ['http://api.example.com'] },
    ];
    for (const change of cases) await assertApiError(ks.serverDomains(appId, change), 'DOMAIN_SCHEME_INVALID');
    assert.deepEqual(await ks.serverDomains(appId, { action: 'get' }), {
      request: ['https://api.example.com'],
      socket: [],
      uploadFile: [],
      downloadFile: [],
      udp: [],
    });
  });

  test('a host that is not the registered domain or a subdomain → DOMAIN_NOT_REGISTERED', async () => {
    const appId = await authorizedApp();
    for (const host of ['https://evil.com', 'https://notexample.com', 'https://example.com.evil.com', 'https://example.co']) {
      await assertApiError(ks.serverDomains(appId, { action: 'add', request: [host] }), 'DOMAIN_NOT_REGISTERED');
    }
    await assertApiError(ks.serverDomains(appId, { action: 'add', socket: ['wss://notexample.com'] }), 'DOMAIN_NOT_REGISTERED');
    await assertApiError(ks.serverDomains(appId, { action: 'add', udp: ['udp://evil.com'] }), 'DOMAIN_NOT_REGISTERED');
    assert.deepEqual((await ks.serverDomains(appId, { action: 'get' })).request, []);
  });

  test('duplicates are ignored, within one call and across calls', async () => {
    const appId = await authorizedApp();
    await ks.serverDomains(appId, { action: 'add', request: ['https://api.example.com', 'https://api.example.com', 'https://API.example.com'] });
    const domains = await ks.serverDomains(appId, { action: 'add', request: ['https://api.example.com', 'https://cdn.example.com'] });
    assert.deepEqual(domains.request, ['https://api.example.com', 'https://cdn.example.com']);
  });

  test('delete: present domains go; an absent one → DOMAIN_NOT_FOUND (403106) and nothing changes', async () => {
    const appId = await authorizedApp();
    await ks.serverDomains(appId, { action: 'add', request: ['https://a.example.com', 'https://b.example.com'], socket: ['wss://ws.example.com'] });
    const error = await assertApiError(ks.serverDomains(appId, { action: 'delete', request: ['https://c.example.com'] }), 'DOMAIN_NOT_FOUND');
    assert.equal(error.code, 403106);
    // Checked across every list before any changes: the present request domain is not deleted either.
    await assertApiError(
      ks.serverDomains(appId, { action: 'delete', request: ['https://a.example.com'], socket: ['wss://other.example.com'] }),
      'DOMAIN_NOT_FOUND',
    );
    const unchanged = await ks.serverDomains(appId, { action: 'get' });
    assert.deepEqual(unchanged.request, ['https://a.example.com', 'https://b.example.com']);
    assert.deepEqual(unchanged.socket, ['wss://ws.example.com']);

    const after = await ks.serverDomains(appId, { action: 'delete', request: ['https://a.example.com'] });
    assert.deepEqual(after.request, ['https://b.example.com']);
    assert.deepEqual(after.socket, ['wss://ws.example.com'], 'lists not named are left alone');
    await assertApiError(ks.serverDomains(appId, { action: 'delete', request: ['https://a.example.com'] }), 'DOMAIN_NOT_FOUND');
  });

  test('set replaces every list (an omitted list becomes empty)', async () => {
    const appId = await authorizedApp();
    await ks.serverDomains(appId, { action: 'add', request: ['https://a.example.com'], socket: ['wss://ws.example.com'] });
    const replaced = await ks.serverDomains(appId, { action: 'set', request: ['https://b.example.com', 'https://b.example.com'] });
    assert.deepEqual(replaced, { request: ['https://b.example.com'], socket: [], uploadFile: [], downloadFile: [], udp: [] });
    assert.deepEqual(await ks.serverDomains(appId, { action: 'get' }), replaced);
  });

  test('webview domains: https only, registered domain or subdomain, duplicates ignored, 403106, set, get', async () => {
    const appId = await authorizedApp();
    assert.deepEqual(await ks.webviewDomains(appId, { action: 'get' }), []);
    assert.deepEqual(
      await ks.webviewDomains(appId, { action: 'add', domains: ['https://h5.example.com', 'https://h5.example.com', 'https://example.com'] }),
      ['https://h5.example.com', 'https://example.com'],
    );
    await assertApiError(ks.webviewDomains(appId, { action: 'add', domains: ['http://h5.example.com'] }), 'DOMAIN_SCHEME_INVALID');
    await assertApiError(ks.webviewDomains(appId, { action: 'add', domains: ['wss://h5.example.com'] }), 'DOMAIN_SCHEME_INVALID');
    await assertApiError(ks.webviewDomains(appId, { action: 'add', domains: ['https://evil.com'] }), 'DOMAIN_NOT_REGISTERED');
    await assertApiError(ks.webviewDomains(appId, { action: 'add', domains: ['https://notexample.com'] }), 'DOMAIN_NOT_REGISTERED');
    await assertApiError(ks.webviewDomains(appId, { action: 'delete', domains: ['https://m.example.com'] }), 'DOMAIN_NOT_FOUND');
    assert.deepEqual(await ks.webviewDomains(appId, { action: 'get' }), ['https://h5.example.com', 'https://example.com']);
    assert.deepEqual(await ks.webviewDomains(appId, { action: 'delete', domains: ['https://example.com'] }), ['https://h5.example.com']);
    assert.deepEqual(await ks.webviewDomains(appId, { action: 'set', domains: ['https://m.example.com'] }), ['https://m.example.com']);
    assert.deepEqual(await ks.webviewDomains(appId, { action: 'get' }), ['https://m.example.com']);
  });
});

describe('domain changes are saved like every other change', () => {
  test('server and webview domains survive a restart on a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-sandbox-rules-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await startSandbox({ stateFile });
      const appId = SEEDED_APP_IDS[0];
      try {
        const ks = first.platform();
        await first.ticket();
        await first.authorize(appId);
        // Let the authorization's save land first, so only the domain change is left to save.
        await first.sandbox.runtime.state.flush();
        await ks.serverDomains(appId, { action: 'add', request: ['https://api.example.com'], udp: ['udp://udp.example.com'] });
        await ks.webviewDomains(appId, { action: 'add', domains: ['https://h5.example.com'] });
      } finally {
        await first.close();
      }
      const second = await startSandbox({ stateFile });
      try {
        const app = second.sandbox.runtime.state.app(appId);
        assert.deepEqual(app?.serverDomains.request, ['https://api.example.com']);
        assert.deepEqual(app?.serverDomains.udp, ['udp://udp.example.com']);
        assert.deepEqual(app?.webviewDomains, ['https://h5.example.com']);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- Versions (A3–A9) ----------------------------------------------------------------------------------

describe('the version state machine (A3–A9)', () => {
  /** Audits decided 50 ms after submission. */
  let auto: SandboxHarness;
  /** Audits decided only through the control API; capabilities not before a minute. */
  let manual: SandboxHarness;
  let ks: KuaishouPlatform;
  let km: KuaishouPlatform;

  before(async () => {
    auto = await startSandbox();
    manual = await startSandbox({ component: { auditDelayMs: -1, capabilityDelayMs: 60_000 } });
    ks = auto.platform();
    km = manual.platform();
    await auto.ticket();
    await manual.ticket();
  });
  after(async () => {
    await auto.close();
    await manual.close();
  });

  const appOn = async (sb: SandboxHarness): Promise<string> => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    return appId!;
  };

  /** Upload, submit, wait for the automatic pass. */
  const passed = async (appId: string, userVersion: string): Promise<void> => {
    await ks.uploadCode(appId, upload(userVersion));
    await ks.submitAudit(appId);
    await waitForVersions(ks, appId, (v) => (v.audit?.status === 'passed' ? true : undefined), `${userVersion} to pass`);
  };

  test('upload creates the development version seen in A7; another upload replaces it', async () => {
    const appId = await appOn(auto);
    const started = Date.now();
    assert.deepEqual(await ks.uploadCode(appId, upload('1.0.0', { shopName: '川味小馆' })), {});
    const { development, audit, online } = await ks.getVersions(appId);
    assert.equal(audit, undefined);
    assert.equal(online, undefined);
    assert.ok(development);
    assert.deepEqual({ ...development, createdAt: 0 }, { userVersion: '1.0.0', userDesc: 'version 1.0.0', templateId: 1, createdAt: 0 });
    assert.ok(development.createdAt >= Math.floor(started / 1000) * 1000 && development.createdAt <= Date.now());
    assert.deepEqual(JSON.parse(auto.sandbox.runtime.state.app(appId)?.dev?.extJson ?? 'null'), { extEnable: true, extAppId: appId, ext: { shopName: '川味小馆' } });

    await ks.uploadCode(appId, upload('1.0.1', { shopName: 'x' }, 2));
    const replaced = (await ks.getVersions(appId)).development;
    assert.equal(replaced?.userVersion, '1.0.1');
    assert.equal(replaced?.templateId, 2);
  });

  test('upload with an unknown template → TEMPLATE_NOT_FOUND; ext_json not a JSON object → EXT_JSON_INVALID; the dev version stays', async () => {
    const appId = await appOn(auto);
    await ks.uploadCode(appId, upload('1.0.0'));
    await assertApiError(ks.uploadCode(appId, upload('2.0.0', {}, 999)), 'TEMPLATE_NOT_FOUND');
    await assertApiError(ks.uploadCode(appId, upload('2.0.0', '{"shopName": ')), 'EXT_JSON_INVALID');
    await assertApiError(ks.uploadCode(appId, upload('2.0.0', 'not json at all')), 'EXT_JSON_INVALID');
    await assertApiError(ks.uploadCode(appId, upload('2.0.0', '[1, 2]')), 'EXT_JSON_INVALID');
    await assertApiError(ks.uploadCode(appId, upload('2.0.0', '"text"')), 'EXT_JSON_INVALID');
    assert.equal((await ks.getVersions(appId)).development?.userVersion, '1.0.0');
  });

  test("ext.json (devTool.html): extEnable must be true, extAppId the calling mini-program, pages and sub-packages the template's; the dev version stays", async () => {
    const appId = await appOn(auto);
    await ks.uploadCode(appId, upload('1.0.0'));
    const raw = (document: Record<string, unknown>) => upload('2.0.0', JSON.stringify(document));
    // The custom config alone at the top level (what uploads sent before ext.json was modelled) configures nothing.
    await assertApiError(ks.uploadCode(appId, raw({ shopName: 'x' })), 'EXT_NOT_ENABLED');
    await assertApiError(ks.uploadCode(appId, raw({ extEnable: 'true', extAppId: appId, ext: {} })), 'EXT_NOT_ENABLED');
    await assertApiError(ks.uploadCode(appId, raw({ extEnable: true, ext: {} })), 'EXT_APP_ID_MISMATCH');
    await assertApiError(ks.uploadCode(appId, raw({ extEnable: true, extAppId: 'ks_someone_else', ext: {} })), 'EXT_APP_ID_MISMATCH');
    await assertApiError(ks.uploadCode(appId, raw({ extEnable: true, extAppId: appId, ext: [1] })), 'EXT_JSON_INVALID');
    const ok = { extEnable: true, extAppId: appId, ext: {} };
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, pages: ['pages/index/index', 'pages/new/index'] })), 'EXT_PAGES_INVALID');
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, pages: [] })), 'EXT_JSON_INVALID');
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, pages: ['pages/index/index', 'pages/index/index'] })), 'EXT_JSON_INVALID');
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, pages: ['pages/index/index'], extPages: { 'pages/menu/index': {} } })), 'EXT_PAGES_INVALID');
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, subPackages: [{ root: 'groupon', pages: ['index'] }] })), 'EXT_PAGES_INVALID'); // template 1 has no groupon package
    await assertApiError(ks.uploadCode(appId, raw({ ...ok, window: 'dark' })), 'EXT_JSON_INVALID');
    assert.equal((await ks.getVersions(appId)).development?.userVersion, '1.0.0');
    // A subset of the template's pages, with a page's overrides and one of its packages: accepted and kept as sent.
    const subset = { ...ok, pages: ['pages/index/index', 'pages/menu/index'], extPages: { 'pages/menu/index': { navigationBarTitleText: '菜单' } }, subPackages: [{ root: 'member', pages: ['index'] }] };
    await ks.uploadCode(appId, raw(subset));
    assert.deepEqual(JSON.parse(auto.sandbox.runtime.state.app(appId)?.dev?.extJson ?? 'null'), subset);
  });

  test('submit without an upload → NO_DEV_VERSION', async () => {
    const appId = await appOn(manual);
    await assertApiError(km.submitAudit(appId), 'NO_DEV_VERSION');
    assert.deepEqual(await km.getVersions(appId), {});
  });

  test('submit puts the dev version under audit; submitting again while auditing → AUDIT_IN_PROGRESS', async () => {
    const appId = await appOn(manual);
    await km.uploadCode(appId, upload('1.0.0'));
    await km.submitAudit(appId, { auditNote: 'first audit' });
    const { audit } = await km.getVersions(appId);
    assert.equal(audit?.status, 'auditing');
    assert.equal(audit?.userVersion, '1.0.0');
    assert.equal(manual.sandbox.runtime.state.app(appId)?.audit?.auditNote, 'first audit');
    await assertApiError(km.submitAudit(appId), 'AUDIT_IN_PROGRESS');
    // Uploading a newer version does not let it jump the queue either.
    await km.uploadCode(appId, upload('1.0.1'));
    await assertApiError(km.submitAudit(appId), 'AUDIT_IN_PROGRESS');
    assert.equal((await km.getVersions(appId)).audit?.userVersion, '1.0.0');
  });

  test('withdraw when not auditing → NOT_AUDITING; while auditing it works and the audit disappears', async () => {
    const appId = await appOn(manual);
    await assertApiError(km.withdrawAudit(appId), 'NOT_AUDITING');
    await km.uploadCode(appId, upload('1.0.0'));
    await assertApiError(km.withdrawAudit(appId), 'NOT_AUDITING');
    await km.submitAudit(appId);
    assert.deepEqual(await km.withdrawAudit(appId), {});
    const versions = await km.getVersions(appId);
    assert.equal(versions.audit, undefined);
    assert.equal(versions.development?.userVersion, '1.0.0', 'the dev version stays');
    await assertApiError(km.withdrawAudit(appId), 'NOT_AUDITING');
    const decision = await manual.control('POST', `/audits/${appId}`, { decision: 'pass' });
    assert.equal(decision.status, 409, 'nothing left to decide');
    // It can be submitted again.
    await km.submitAudit(appId);
    assert.equal((await km.getVersions(appId)).audit?.status, 'auditing');
  });

  test('a withdrawn audit is never decided automatically', async () => {
    // Its own sandbox with a longer delay, so the withdrawal surely comes first even on a slow machine.
    const slow = await startSandbox({ component: { auditDelayMs: 300 } });
    try {
      const kslow = slow.platform();
      await slow.ticket();
      const appId = await appOn(slow);
      await kslow.uploadCode(appId, upload('1.0.0'));
      await kslow.submitAudit(appId);
      await kslow.withdrawAudit(appId);
      await new Promise((resolve) => setTimeout(resolve, 450));
      assert.equal((await kslow.getVersions(appId)).audit, undefined);
      const pushes = await slow.control<{ total: number }>('GET', `/pushes?event=auditResult&appId=${appId}`);
      assert.equal(pushes.json.total, 0);
    } finally {
      await slow.close();
    }
  });

  test('the audit is decided PASS automatically after the delay, with a PACKAGE_AUDIT_RESULT push', async () => {
    const appId = await appOn(auto);
    await ks.uploadCode(appId, upload('1.0.0'));
    const submitted = Date.now();
    await ks.submitAudit(appId);
    const audit = await waitForVersions(ks, appId, (v) => (v.audit?.status === 'auditing' ? undefined : v.audit), 'the audit decision');
    assert.equal(audit.status, 'passed');
    assert.equal(audit.userVersion, '1.0.0');
    assert.equal(audit.reason, undefined);
    assert.ok(Date.now() - submitted >= 50, 'not before the delay');
    const pushes = await auto.control<{ total: number }>('GET', `/pushes?event=auditResult&appId=${appId}`);
    assert.equal(pushes.json.total, 1);
  });

  test('an ext.json with "sandboxReject": true at its top level (the form before ext.json was modelled) is rejected too', async () => {
    const appId = await appOn(auto);
    await ks.uploadCode(appId, upload('1.0.0', JSON.stringify({ extEnable: true, extAppId: appId, ext: {}, sandboxReject: true })));
    await ks.submitAudit(appId);
    const audit = await waitForVersions(ks, appId, (v) => (v.audit?.status === 'auditing' ? undefined : v.audit), 'the audit decision');
    assert.equal(audit.status, 'rejected');
  });

  test('ext.sandboxReject: true → REJECT with a reason; it cannot be released; a fixed upload passes', async () => {
    const appId = await appOn(auto);
    await ks.uploadCode(appId, upload('1.0.0', { shopName: 'x', sandboxReject: true }));
    await ks.submitAudit(appId);
    const audit = await waitForVersions(ks, appId, (v) => (v.audit?.status === 'auditing' ? undefined : v.audit), 'the audit decision');
    assert.equal(audit.status, 'rejected');
    assert.match(audit.reason ?? '', /sandboxReject/);
    await assertApiError(ks.release(appId), 'NO_PASSED_AUDIT');
    await assertApiError(ks.withdrawAudit(appId), 'NOT_AUDITING');
    // Only `true` is the marker.
    await ks.uploadCode(appId, upload('1.0.1', { sandboxReject: 'yes' }));
    await ks.submitAudit(appId);
    await waitForVersions(ks, appId, (v) => (v.audit?.status === 'passed' ? true : undefined), '1.0.1 to pass');
    assert.equal((await ks.getVersions(appId)).audit?.reason, undefined, 'the old rejection reason is gone');
  });

  test('manual decisions (auditDelayMs -1): reject with a reason, then pass', async () => {
    const appId = await appOn(manual);
    await km.uploadCode(appId, upload('1.0.0'));
    await km.submitAudit(appId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await km.getVersions(appId)).audit?.status, 'auditing', 'no automatic decision');
    const rejected = await manual.control('POST', `/audits/${appId}`, { decision: 'reject', reason: '类目不符' });
    assert.deepEqual(rejected, { status: 200, json: { appId, decision: 'reject' } });
    const audit = (await km.getVersions(appId)).audit;
    assert.equal(audit?.status, 'rejected');
    assert.equal(audit?.reason, '类目不符');
    const again = await manual.control<{ error: { code: string } }>('POST', `/audits/${appId}`, { decision: 'pass' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'not_auditing');

    await km.submitAudit(appId);
    await manual.control('POST', `/audits/${appId}`, { decision: 'pass' });
    assert.equal((await km.getVersions(appId)).audit?.status, 'passed');
    await km.release(appId);
    assert.equal((await km.getVersions(appId)).online?.userVersion, '1.0.0');
  });

  test('release before a pass → NO_PASSED_AUDIT (no audit, or still auditing)', async () => {
    const appId = await appOn(manual);
    await assertApiError(km.release(appId), 'NO_PASSED_AUDIT');
    await km.uploadCode(appId, upload('1.0.0'));
    await assertApiError(km.release(appId), 'NO_PASSED_AUDIT');
    await km.submitAudit(appId);
    await assertApiError(km.release(appId), 'NO_PASSED_AUDIT');
    assert.equal((await km.getVersions(appId)).online, undefined);
  });

  test('release after a pass puts it online; released once, it cannot be released again; no rollback after the first release', async () => {
    const appId = await appOn(auto);
    await passed(appId, '1.0.0');
    const started = Date.now();
    assert.deepEqual(await ks.release(appId), {});
    const { online, audit, development } = await ks.getVersions(appId);
    assert.equal(audit, undefined, 'the released audit is consumed');
    assert.equal(development?.userVersion, '1.0.0');
    assert.ok(online);
    assert.equal(online.userVersion, '1.0.0');
    assert.equal(online.templateId, 1);
    assert.equal(online.canRollback, false);
    assert.equal(online.rollbackVersion, undefined);
    assert.ok(online.releasedAt >= Math.floor(started / 1000) * 1000);
    await assertApiError(ks.release(appId), 'NO_PASSED_AUDIT');
    await assertApiError(ks.rollback(appId), 'ROLLBACK_NOT_ALLOWED');
    assert.equal((await ks.getVersions(appId)).online?.userVersion, '1.0.0');
  });

  test('a second release makes the first the rollback target; rollback restores it, once', async () => {
    const appId = await appOn(auto);
    await assertApiError(ks.rollback(appId), 'ROLLBACK_NOT_ALLOWED');
    await passed(appId, '1.0.0');
    await ks.release(appId);
    await passed(appId, '1.1.0');
    await ks.release(appId);
    const beforeRollback = (await ks.getVersions(appId)).online;
    assert.equal(beforeRollback?.userVersion, '1.1.0');
    assert.equal(beforeRollback?.canRollback, true);
    assert.equal(beforeRollback?.rollbackVersion, '1.0.0');

    assert.deepEqual(await ks.rollback(appId), {});
    const afterRollback = (await ks.getVersions(appId)).online;
    assert.equal(afterRollback?.userVersion, '1.0.0');
    assert.equal(afterRollback?.userDesc, 'version 1.0.0');
    assert.equal(afterRollback?.canRollback, false);
    assert.equal(afterRollback?.rollbackVersion, undefined);
    await assertApiError(ks.rollback(appId), 'ROLLBACK_NOT_ALLOWED');
    assert.equal((await ks.getVersions(appId)).online?.userVersion, '1.0.0');

    // The next release makes the restored version the rollback target again.
    await passed(appId, '1.2.0');
    await ks.release(appId);
    const third = (await ks.getVersions(appId)).online;
    assert.equal(third?.userVersion, '1.2.0');
    assert.equal(third?.rollbackVersion, '1.0.0');
  });
});

// ---- QR codes (A6) -------------------------------------------------------------------------------------

describe('experience QR codes (A6) and the preview page', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  before(async () => {
    sb = await startSandbox({ component: { auditDelayMs: -1 } });
    ks = sb.platform();
    await sb.ticket();
  });
  after(() => sb.close());

  test('development and audit QR codes are PNG images; audit QR without an audit → NOT_AUDITING', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    await assertApiError(ks.getQrCode(appId!), 'NO_DEV_VERSION');
    await ks.uploadCode(appId!, upload('1.0.0'));
    const development = await ks.getQrCode(appId!, { version: 'development', path: 'pages/index?from=qr' });
    assertPng(development.png, development.contentType);
    await assertApiError(ks.getQrCode(appId!, { version: 'audit' }), 'NOT_AUDITING');
    await ks.submitAudit(appId!);
    const audit = await ks.getQrCode(appId!, { version: 'audit' });
    assertPng(audit.png, audit.contentType);
    assert.notDeepEqual(audit.png, development.png, 'the audit QR leads elsewhere');
  });

  test('different versions give different QR images', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    await ks.uploadCode(appId!, upload('1.0.0'));
    const first = await ks.getQrCode(appId!);
    const same = await ks.getQrCode(appId!);
    assert.deepEqual(same.png, first.png, 'the same version gives the same image');
    await ks.uploadCode(appId!, upload('1.0.1'));
    const second = await ks.getQrCode(appId!);
    assertPng(second.png, second.contentType);
    assert.notDeepEqual(second.png, first.png);
  });

  test('the preview page a QR code opens names the current development version', async () => {
    const [appId] = await sb.newApps(1);
    await sb.authorize(appId!);
    await ks.uploadCode(appId!, upload('3.2.1'));
    const page = await sb.request(`/sandbox/preview/${appId}?version=latest`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /data-testid="preview-version">v3\.2\.1</);
    const audit = await (await sb.request(`/sandbox/preview/${appId}?version=audit`)).text();
    assert.doesNotMatch(audit, /preview-version/, 'no audit version to show');
  });
});

// ---- Capabilities (A10/A11) ----------------------------------------------------------------------------

describe('capabilities (A10/A11)', () => {
  /** Capabilities decided 50 ms after the application. */
  let auto: SandboxHarness;
  /** Capabilities not decided for a minute, unless through the control API. */
  let slow: SandboxHarness;
  let ks: KuaishouPlatform;
  let kslow: KuaishouPlatform;

  before(async () => {
    auto = await startSandbox();
    slow = await startSandbox({ component: { capabilityDelayMs: 60_000 } });
    ks = auto.platform();
    kslow = slow.platform();
    await auto.ticket();
    await slow.ticket();
  });
  after(async () => {
    await auto.close();
    await slow.close();
  });

  const statusOf = (platform: KuaishouPlatform, appId: string, capability: Capability) => platform.getCapabilityStatus(appId, capability);

  test('every capability: NOT_APPLIED, then APPROVED after the delay, kept under its wire name', async () => {
    const [appId] = await auto.newApps(1);
    await auto.authorize(appId!);
    for (const capability of CAPABILITIES) {
      assert.deepEqual(await statusOf(ks, appId!, capability), { capability, status: 'notApplied' });
    }
    for (const capability of CAPABILITIES) {
      await ks.applyCapability(appId!, { capability, reason: `需要${capability}` });
      const state = await waitFor(
        async () => {
          const current = await statusOf(ks, appId!, capability);
          return current.status === 'applying' ? undefined : current;
        },
        { what: `${capability} to be decided` },
      );
      assert.deepEqual(state, { capability, status: 'approved' });
      const record = auto.sandbox.runtime.state.app(appId!)?.capabilities[CAPABILITY_WIRE[capability]];
      assert.equal(record?.status, 'APPROVED');
      assert.equal(record?.applyReason, `需要${capability}`);
    }
    assert.deepEqual(Object.keys(auto.sandbox.runtime.state.app(appId!)!.capabilities).sort(), [
      'LIVE_MOUNT',
      'PHONE_NUMBER',
      'PUBLISH_KUAISHOU',
      'SHORT_VIDEO_MOUNT',
    ]);
    const pushes = await auto.control<{ total: number }>('GET', `/pushes?event=capabilityResult&appId=${appId}`);
    assert.equal(pushes.json.total, 4);
  });

  test('applying again while APPLYING or APPROVED → CAPABILITY_IN_PROGRESS', async () => {
    const [appId] = await slow.newApps(1);
    await slow.authorize(appId!);
    await kslow.applyCapability(appId!, { capability: 'liveMount' });
    assert.equal((await statusOf(kslow, appId!, 'liveMount')).status, 'applying');
    await assertApiError(kslow.applyCapability(appId!, { capability: 'liveMount' }), 'CAPABILITY_IN_PROGRESS');
    assert.equal((await statusOf(kslow, appId!, 'shortVideoMount')).status, 'notApplied', 'capabilities are independent');

    const decided = await slow.control('POST', `/capabilities/${appId}`, { capability: 'LIVE_MOUNT', decision: 'approve' });
    assert.equal(decided.status, 200);
    assert.equal((await statusOf(kslow, appId!, 'liveMount')).status, 'approved');
    await assertApiError(kslow.applyCapability(appId!, { capability: 'liveMount' }), 'CAPABILITY_IN_PROGRESS');
  });

  test('a reason containing "sandboxReject" → REJECTED with a reason; a rejected capability may be applied for again', async () => {
    const [appId] = await auto.newApps(1);
    await auto.authorize(appId!);
    await ks.applyCapability(appId!, { capability: 'phoneNumber', reason: 'please sandboxReject this' });
    const rejected = await waitFor(
      async () => {
        const current = await statusOf(ks, appId!, 'phoneNumber');
        return current.status === 'applying' ? undefined : current;
      },
      { what: 'the capability decision' },
    );
    assert.equal(rejected.status, 'rejected');
    assert.match(rejected.reason ?? '', /sandboxReject/);

    await ks.applyCapability(appId!, { capability: 'phoneNumber', reason: '登录需要手机号' });
    const approved = await waitFor(
      async () => {
        const current = await statusOf(ks, appId!, 'phoneNumber');
        return current.status === 'applying' ? undefined : current;
      },
      { what: 'the second decision' },
    );
    assert.deepEqual(approved, { capability: 'phoneNumber', status: 'approved' }, 'the earlier rejection reason is gone');
  });

  test('a manual rejection through the control API carries its reason', async () => {
    const [appId] = await slow.newApps(1);
    await slow.authorize(appId!);
    await kslow.applyCapability(appId!, { capability: 'publishKuaishou' });
    await slow.control('POST', `/capabilities/${appId}`, { capability: 'PUBLISH_KUAISHOU', decision: 'reject', reason: '资质不全' });
    assert.deepEqual(await statusOf(kslow, appId!, 'publishKuaishou'), { capability: 'publishKuaishou', status: 'rejected', reason: '资质不全' });
  });
});

// ---- Templates (A12) and call counts -------------------------------------------------------------------

describe('templates (A12) and call counts', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    await sb.ticket();
  });
  after(() => sb.close());

  test('the template list holds the two seeded templates, then one added through the control API', async () => {
    const seeded = await ks.listTemplates();
    assert.deepEqual(
      seeded.map(({ templateId, userVersion }) => ({ templateId, userVersion })),
      [
        { templateId: 1, userVersion: '1.0.0' },
        { templateId: 2, userVersion: '1.1.0' },
      ],
    );
    for (const template of seeded) {
      assert.ok(template.userDesc.length > 0);
      assert.ok(template.createdAt > 0 && template.createdAt <= Date.now());
    }

    const added = await sb.control<{ templateId: number }>('POST', '/templates', { userVersion: '2.0.0', userDesc: '新增外卖' });
    assert.equal(added.status, 201);
    assert.equal(added.json.templateId, 3);
    const templates = await ks.listTemplates();
    assert.equal(templates.length, 3);
    assert.deepEqual({ ...templates[2], createdAt: 0 }, { templateId: 3, userVersion: '2.0.0', userDesc: '新增外卖', createdAt: 0 });

    // The new template can be uploaded.
    const appId = SEEDED_APP_IDS[0];
    await sb.authorize(appId);
    await ks.uploadCode(appId, upload('2.0.0', {}, 3));
    assert.equal((await ks.getVersions(appId)).development?.templateId, 3);
  });

  test('one upload is counted exactly once for its app; a refused one is counted as a call, not as ok', async () => {
    const appId = SEEDED_APP_IDS[1];
    await sb.authorize(appId);
    await ks.uploadCode(appId, upload('1.0.0'));
    const counts = await sb.calls();
    assert.deepEqual(counts.byApp[appId]?.uploadCode, { calls: 1, ok: 1, faulted: 0 });
    assert.equal(counts.byApp[SEEDED_APP_IDS[2]]?.uploadCode, undefined, 'other apps are untouched');

    await assertApiError(ks.uploadCode(appId, upload('1.0.1', {}, 42)), 'TEMPLATE_NOT_FOUND');
    assert.deepEqual((await sb.calls()).byApp[appId]?.uploadCode, { calls: 2, ok: 1, faulted: 0 });
  });
});
