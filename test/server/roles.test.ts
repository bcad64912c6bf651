/**
 * Who may call what. The routes come from /openapi.json, so a new route cannot be forgotten: every
 * /api/v1 operation must have an expected role here. No key, a bad key or a revoked key → 401; a role
 * below the route's → 403 with `details.required`; enough role → the call goes through (and, when it
 * mutates, lands in the audit log under the caller's key).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Role } from '../../src/fleet/model.ts';
import { assertError, auditLog, authorizeMerchant, keyIdOf, sandboxCalls } from '../helpers/rest.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const RANK: Record<Role, number> = { runtime: 0, viewer: 1, operator: 2, admin: 3 };

/** The role each /api/v1 operation needs. A route in the OpenAPI document but not here fails the suite. */
const REQUIRED: Record<string, Role> = {
  'POST /api/v1/authorizations': 'operator',
  'POST /api/v1/merchants/{appId}/domains/server': 'operator',
  'POST /api/v1/merchants/{appId}/domains/webview': 'operator',
  'POST /api/v1/merchants/{appId}/code': 'operator',
  'POST /api/v1/merchants/{appId}/audit': 'operator',
  'POST /api/v1/merchants/{appId}/audit/withdraw': 'operator',
  'POST /api/v1/merchants/{appId}/release': 'operator',
  'POST /api/v1/merchants/{appId}/rollback': 'operator',
  'POST /api/v1/merchants/{appId}/capabilities/{capability}': 'operator',
  'POST /api/v1/keys': 'admin',
  'DELETE /api/v1/keys/{id}': 'admin',
  'POST /api/v1/rollouts': 'operator',
  'POST /api/v1/rollouts/{id}/pause': 'operator',
  'POST /api/v1/rollouts/{id}/resume': 'operator',
  'POST /api/v1/rollouts/{id}/abort': 'operator',
  'POST /api/v1/rollouts/{id}/rollback': 'operator',
  'POST /api/v1/rollouts/{id}/release': 'operator',
  'POST /api/v1/domain-policies': 'operator',
  'POST /api/v1/templates/sync': 'operator',
  'PUT /api/v1/templates/{templateId}/ext': 'operator',
  'PUT /api/v1/merchants/{appId}/ext': 'operator',
  'PUT /api/v1/channels/{name}': 'operator',
  'PUT /api/v1/onboarding': 'admin',
  'POST /api/v1/merchants/{appId}/onboarding/start': 'operator',
  'POST /api/v1/platform/probe': 'admin',

  'GET /api/v1/merchants': 'viewer',
  'GET /api/v1/merchants/{appId}': 'viewer',
  'GET /api/v1/merchants/{appId}/domains/server': 'viewer',
  'GET /api/v1/merchants/{appId}/domains/webview': 'viewer',
  'GET /api/v1/merchants/{appId}/qrcode': 'viewer',
  'GET /api/v1/merchants/{appId}/versions': 'viewer',
  'GET /api/v1/merchants/{appId}/capabilities/{capability}': 'viewer',
  'GET /api/v1/templates': 'viewer',
  'GET /api/v1/audit-log': 'viewer',
  'GET /api/v1/push-events': 'viewer',
  'GET /api/v1/keys': 'admin',
  'GET /api/v1/me': 'viewer',
  'GET /api/v1/rollouts': 'viewer',
  'GET /api/v1/rollouts/{id}': 'viewer',
  'GET /api/v1/rollouts/{id}/targets': 'viewer',
  'GET /api/v1/rollouts/{id}/events': 'viewer',
  'GET /api/v1/templates/{templateId}/ext': 'viewer',
  'GET /api/v1/merchants/{appId}/ext': 'viewer',
  'GET /api/v1/merchants/{appId}/ext/history': 'viewer',
  'GET /api/v1/merchants/{appId}/ext/preview': 'viewer',
  'GET /api/v1/channels': 'viewer',
  'GET /api/v1/channels/{name}': 'viewer',
  'GET /api/v1/onboarding': 'viewer',
  'GET /api/v1/merchants/{appId}/onboarding/plan': 'viewer',
  'GET /api/v1/merchants/{appId}/runtime': 'viewer',
  'GET /api/v1/platform': 'viewer',
  'GET /api/v1/merchants/{appId}/users': 'viewer',
};

/** The runtime-key routes of /runtime/v1 (the provider's business back end), with a well-formed request each. */
const RUNTIME_KEY_ROUTES: [string, string, unknown][] = [
  ['POST', '/runtime/v1/introspect', { sessionToken: 'kss_not-a-live-session' }],
  ['GET', `/runtime/v1/merchants/${APP}/users`, undefined],
  ['POST', `/runtime/v1/merchants/${APP}/messages`, { openId: 'nobody', templateId: 'tpl_1', data: {} }],
];

/** A well-formed request body for each route that takes one. */
const BODIES: Record<string, unknown> = {
  'POST /api/v1/authorizations': {},
  'POST /api/v1/merchants/{appId}/domains/server': { action: 'add', request: ['https://api.example.com'] },
  'POST /api/v1/merchants/{appId}/domains/webview': { action: 'add', domains: ['https://h5.example.com'] },
  'POST /api/v1/merchants/{appId}/code': { templateId: 1, userVersion: '1.0.0', extJson: { shopId: 1 } },
  'POST /api/v1/merchants/{appId}/audit': { note: 'roles' },
  'POST /api/v1/merchants/{appId}/capabilities/{capability}': { reason: 'roles' },
  'POST /api/v1/keys': { name: 'made in a roles test', role: 'viewer' },
  'POST /api/v1/rollouts': { templateId: 1, userVersion: '9.0.0', userDesc: 'roles', targets: { appIds: ['ks0000000000000001'] } },
  'POST /api/v1/domain-policies': { targets: { appIds: ['ks0000000000000001'] }, webviewDomains: ['https://h5.example.com'], dryRun: true },
  'PUT /api/v1/templates/{templateId}/ext': { ext: { theme: 'roles' }, baseVersion: 0 },
  'PUT /api/v1/merchants/{appId}/ext': { templateId: 1, overrides: { shopId: 'roles' }, baseVersion: 0 },
  'PUT /api/v1/channels/{name}': { templateId: 1, userVersion: '1.0.0' },
  'PUT /api/v1/onboarding': { enabled: false, channel: 'stable' },
  'POST /api/v1/platform/probe': { appId: 'ks0000000000000001' },
};

interface KeyAnswer {
  id: string;
  name: string;
  role: string;
  key: string;
}

for (const dialect of dialectTargets()) {
  describe(`roles on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    /** Every /api/v1 operation of the OpenAPI document: `METHOD /path/{param}`. */
    let routes: string[] = [];
    /** A key that stays valid, as the target of DELETE /api/v1/keys/{id} in the refused sweeps. */
    let spareKeyId = '';
    /** A finished rollout, as the target of /api/v1/rollouts/{id}… */
    let rolloutId = '';
    /** The OpenAPI document's operations by path and method. */
    let documented: Record<string, Record<string, { requestBody?: { required?: boolean }; responses?: Record<string, unknown> }>> = {};

    const createKey = async (role: Role, name = `${role} key`): Promise<KeyAnswer> => {
      const created = await stack.api<KeyAnswer>('POST', '/api/v1/keys', { key: stack.keys.admin, body: { name, role } });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      return created.json;
    };

    /** Calls `route` with `key` (null: no Authorization header) and a well-formed request. */
    const callRoute = (route: string, key: string | null, options: { keyId?: string; headers?: Record<string, string>; noBody?: boolean } = {}): Promise<ApiAnswer> => {
      const [method, template] = route.split(' ') as [string, string];
      const path = template
        .replace('{appId}', APP)
        .replace('{capability}', 'live-mount')
        .replace('{templateId}', '1')
        .replace('{name}', 'stable')
        .replace('{id}', template.startsWith('/api/v1/rollouts/') ? rolloutId : (options.keyId ?? spareKeyId));
      const body = options.noBody ? undefined : BODIES[route];
      return stack.api(method, path, { key, ...(body === undefined ? {} : { body }), ...(options.headers ? { headers: options.headers } : {}) });
    };

    const mutatingRoutes = (): string[] => routes.filter((route) => MUTATING.has(route.split(' ')[0]!));

    /** What a refused request must not change. */
    const untouched = async (): Promise<unknown> => ({
      auditLog: (await auditLog(stack)).length,
      calls: await sandboxCalls(stack),
      keys: (await stack.api<{ items: { id: string; revokedAt: number | null }[] }>('GET', '/api/v1/keys')).json.items.map((k) => [k.id, k.revokedAt]),
    });

    before(async () => {
      stack = await startStack(dialect);
      await stack.ready();
      await authorizeMerchant(stack, APP);
      const spec = await stack.api<{ paths: typeof documented }>('GET', '/openapi.json', { key: null });
      assert.equal(spec.status, 200);
      documented = spec.json.paths;
      routes = Object.entries(spec.json.paths)
        .filter(([path]) => path.startsWith('/api/v1/'))
        .flatMap(([path, operations]) => Object.keys(operations).filter((m) => METHODS.includes(m)).map((method) => `${method.toUpperCase()} ${path}`));
      spareKeyId = (await createKey('viewer', 'spare')).id;
      // The ext routes name a synced template.
      assert.equal((await stack.api('POST', '/api/v1/templates/sync', { key: stack.keys.operator })).status, 200);
      const channel = await stack.api('PUT', '/api/v1/channels/stable', { key: stack.keys.operator, body: BODIES['PUT /api/v1/channels/{name}'] });
      assert.equal(channel.status, 200, JSON.stringify(channel.json));
      const rollout = await stack.api<{ rollout: { id: string } }>('POST', '/api/v1/rollouts', { key: stack.keys.operator, body: BODIES['POST /api/v1/rollouts'] });
      assert.equal(rollout.status, 201, JSON.stringify(rollout.json));
      rolloutId = rollout.json.rollout.id;
      for (let i = 0; i < 400; i++) {
        const seen = await stack.api<{ rollout: { status: string } }>('GET', `/api/v1/rollouts/${rolloutId}`);
        if (seen.json.rollout.status === 'completed') break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('every /api/v1 route of the OpenAPI document has an expected role, and every expected route exists', () => {
      assert.ok(mutatingRoutes().length >= 11, `mutating routes found: ${mutatingRoutes().join(', ')}`);
      assert.deepEqual(routes.filter((route) => !(route in REQUIRED)), [], 'routes without an expected role: add them to REQUIRED');
      assert.deepEqual(Object.keys(REQUIRED).filter((route) => !routes.includes(route)), [], 'expected routes missing from the document');
      for (const route of mutatingRoutes()) assert.notEqual(REQUIRED[route], 'viewer', `${route} mutates: a viewer must not call it`);
    });

    test('no key, a malformed header or an unknown key → 401 on every route, and nothing changes', async () => {
      const before = await untouched();
      const adminId = keyIdOf(stack.keys.admin);
      const attempts: [string, { key: string | null; headers?: Record<string, string> }][] = [
        ['no key', { key: null }],
        ['Basic scheme', { key: null, headers: { authorization: `Basic ${Buffer.from(`x:${stack.keys.admin}`).toString('base64')}` } }],
        ['empty bearer', { key: null, headers: { authorization: 'Bearer ' } }],
        ['key without the scheme', { key: null, headers: { authorization: stack.keys.admin } }],
        ['unknown key', { key: `ksk_AAAAAAAAAAAA_${'b'.repeat(32)}` }],
        ['known id, wrong secret', { key: `ksk_${adminId}_${'c'.repeat(32)}` }],
        ['admin key with a character changed', { key: `${stack.keys.admin.slice(0, -1)}${stack.keys.admin.endsWith('A') ? 'B' : 'A'}` }],
        ['garbage', { key: 'not-a-key' }],
        ['huge key', { key: 'k'.repeat(4000) }],
      ];
      for (const route of routes) {
        for (const [what, attempt] of attempts) {
          const answer = await callRoute(route, attempt.key, attempt.headers ? { headers: attempt.headers } : {});
          assertError(answer, 401, 'unauthenticated', `${route} (${what}):`);
        }
      }
      assert.deepEqual(await untouched(), before);
    });

    test('a revoked key → 401 on every route', async () => {
      const created = await createKey('admin', 'soon revoked');
      assert.equal((await stack.api('GET', '/api/v1/keys', { key: created.key })).status, 200, 'the new key works');
      const revoked = await stack.api('DELETE', `/api/v1/keys/${created.id}`, { key: stack.keys.admin });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
      assert.deepEqual(revoked.json, { id: created.id, revoked: true });

      const before = await untouched();
      for (const route of routes) assertError(await callRoute(route, created.key), 401, 'unauthenticated', `${route} with a revoked key:`);
      assert.deepEqual(await untouched(), before);
      const listed = await stack.api<{ items: { id: string; revokedAt: number | null }[] }>('GET', '/api/v1/keys');
      assert.equal(typeof listed.json.items.find((k) => k.id === created.id)?.revokedAt, 'number', 'listed as revoked');
    });

    test('a role below the route’s → 403 with details.required, and nothing changes', async () => {
      const before = await untouched();
      let refused = 0;
      for (const role of ['viewer', 'operator'] as const) {
        for (const route of routes) {
          const required = REQUIRED[route]!;
          if (RANK[role] >= RANK[required]) continue;
          const error = assertError(await callRoute(route, stack.keys[role]), 403, 'forbidden', `${route} as ${role}:`);
          assert.deepEqual(error.details, { required, role }, `${route} as ${role}`);
          refused++;
        }
      }
      // viewer: 25 mutating routes + GET keys; operator: the 2 key routes, PUT onboarding, the probe + GET keys.
      assert.equal(refused, 31);
      assert.deepEqual(await untouched(), before);
    });

    test('a runtime key → 403 on every /api/v1 route; the runtime-key routes take only a runtime key', async () => {
      const runtime = await createKey('runtime', 'business back end');
      assert.equal(runtime.role, 'runtime');
      const before = await untouched();
      for (const route of routes) {
        const error = assertError(await callRoute(route, runtime.key), 403, 'forbidden', `${route} as runtime:`);
        assert.deepEqual(error.details, { required: REQUIRED[route], role: 'runtime' }, route);
      }
      for (const [method, path, body] of RUNTIME_KEY_ROUTES) {
        for (const role of ['viewer', 'operator', 'admin'] as const) {
          const error = assertError(await stack.api(method, path, { key: stack.keys[role], ...(body === undefined ? {} : { body }) }), 403, 'forbidden', `${method} ${path} as ${role}:`);
          assert.deepEqual(error.details, { required: 'runtime', role }, `${method} ${path} as ${role}`);
        }
        assertError(await stack.api(method, path, { key: null, ...(body === undefined ? {} : { body }) }), 401, 'unauthenticated', `${method} ${path} without a key:`);
      }
      assert.deepEqual(await untouched(), before);
      // Allowed with the runtime key: an unknown session is inactive, the (empty) users page, no such user.
      assert.deepEqual((await stack.api('POST', '/runtime/v1/introspect', { key: runtime.key, body: RUNTIME_KEY_ROUTES[0]![2] })).json, { active: false });
      assert.deepEqual((await stack.api('GET', `/runtime/v1/merchants/${APP}/users`, { key: runtime.key })).json, { items: [], nextCursor: null });
      assertError(await stack.api('POST', `/runtime/v1/merchants/${APP}/messages`, { key: runtime.key, body: RUNTIME_KEY_ROUTES[2]![2] }), 404, 'user_not_found');
    });

    test('GET /api/v1/me tells each key its own id and role', async () => {
      for (const role of ['viewer', 'operator', 'admin'] as const) {
        const me = await stack.api('GET', '/api/v1/me', { key: stack.keys[role] });
        assert.equal(me.status, 200, JSON.stringify(me.json));
        assert.deepEqual(me.json, { keyId: keyIdOf(stack.keys[role]), role });
      }
    });

    test('read routes are open to a viewer', async () => {
      const reads = routes.filter((route) => route.startsWith('GET ') && REQUIRED[route] === 'viewer');
      assert.equal(reads.length, 26);
      // Something to show on the QR code.
      assert.equal((await stack.api('POST', `/api/v1/merchants/${APP}/code`, { key: stack.keys.operator, body: BODIES['POST /api/v1/merchants/{appId}/code'] })).status, 200);
      for (const route of reads) {
        const answer = await callRoute(route, stack.keys.viewer);
        assert.equal(answer.status, 200, `${route} as viewer: ${answer.bytes.toString('utf8').slice(0, 300)}`);
      }
    });

    for (const role of ['operator', 'admin'] as const) {
      test(`${role}: allowed on every mutating route of its rank, and each call is in the audit log under its key`, async () => {
        const keyId = keyIdOf(stack.keys[role]);
        for (const route of mutatingRoutes()) {
          if (RANK[role] < RANK[REQUIRED[route]!]) continue;
          // Revoking needs a key of its own each time.
          const target = route === 'DELETE /api/v1/keys/{id}' ? (await createKey('viewer', 'to revoke')).id : undefined;
          const logged = (await auditLog(stack, `actor=${keyId}`)).length;
          const answer = await callRoute(route, stack.keys[role], target ? { keyId: target } : {});
          assert.ok(answer.status !== 401 && answer.status !== 403, `${route} as ${role}: ${answer.status} ${answer.bytes.toString('utf8').slice(0, 300)}`);
          assert.ok(answer.status < 500, `${route} as ${role}: ${answer.status}`);
          const newest = (await auditLog(stack, `actor=${keyId}`))[0];
          assert.equal((await auditLog(stack, `actor=${keyId}`)).length, logged + 1, `${route} as ${role} is in the audit log`);
          assert.equal(newest?.actorRole, role);
          assert.equal(newest?.result, answer.status < 400 ? 'ok' : 'error', `${route}: ${answer.status}`);
        }
      });
    }

    test('admin: every read route is allowed', async () => {
      for (const route of routes.filter((r) => r.startsWith('GET '))) {
        const answer = await callRoute(route, stack.keys.admin);
        assert.equal(answer.status, 200, `${route} as admin: ${answer.bytes.toString('utf8').slice(0, 300)}`);
      }
    });

    test('keys: the secret is shown once, never listed, and creation and revocation are audited', async () => {
      const adminId = keyIdOf(stack.keys.admin);
      const created = await stack.api<KeyAnswer>('POST', '/api/v1/keys', { key: stack.keys.admin, body: { name: 'ci deploy', role: 'operator' } });
      assert.equal(created.status, 201);
      assert.deepEqual(Object.keys(created.json).sort(), ['id', 'key', 'name', 'role']);
      assert.match(created.json.key, /^ksk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{32,}$/);
      assert.equal(keyIdOf(created.json.key), created.json.id);
      assert.deepEqual([created.json.name, created.json.role], ['ci deploy', 'operator']);

      // The new key has its role: operations yes, key management no.
      assert.equal((await stack.api('GET', `/api/v1/merchants/${APP}/versions`, { key: created.json.key })).status, 200);
      assertError(await stack.api('GET', '/api/v1/keys', { key: created.json.key }), 403, 'forbidden');

      const listed = await stack.api<{ items: Record<string, unknown>[] }>('GET', '/api/v1/keys', { key: stack.keys.admin });
      assert.equal(listed.status, 200);
      const text = listed.bytes.toString('utf8');
      const secrets = [created.json.key, stack.keys.admin, stack.keys.operator, stack.keys.viewer];
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), 'no key text in the list');
        assert.ok(!text.includes(createHash('sha256').update(secret).digest('hex')), 'no key hash in the list');
      }
      for (const item of listed.json.items) {
        assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role']);
      }
      const mine = listed.json.items.find((item) => item.id === created.json.id);
      assert.deepEqual([mine?.name, mine?.role, mine?.revokedAt], ['ci deploy', 'operator', null]);
      assert.equal(typeof mine?.lastUsedAt, 'number', 'the key was used');

      const revoked = await stack.api('DELETE', `/api/v1/keys/${created.json.id}`, { key: stack.keys.admin });
      assert.equal(revoked.status, 200);
      assertError(await stack.api('GET', `/api/v1/merchants/${APP}/versions`, { key: created.json.key }), 401, 'unauthenticated');

      const entries = (await auditLog(stack, `actor=${adminId}`)).filter((e) => e.summary.id === created.json.id);
      assert.deepEqual(
        entries.map((e) => [e.action, e.result, e.errorCode, e.actorRole, e.appId]),
        [
          ['key.revoke', 'ok', null, 'admin', null],
          ['key.create', 'ok', null, 'admin', null],
        ],
      );
      assert.deepEqual(entries[1]?.summary, { id: created.json.id, role: 'operator', name: 'ci deploy' });
      const logText = JSON.stringify(await auditLog(stack));
      for (const secret of secrets) assert.ok(!logText.includes(secret), 'no key text in the audit log');
    });

    test('the OpenAPI document says which bodies are required (as the server decides) and that /readyz may answer 503', async () => {
      const withBody = routes.filter((route) => {
        const [method, path] = route.split(' ') as [string, string];
        return documented[path]?.[method.toLowerCase()]?.requestBody !== undefined;
      });
      assert.ok(withBody.length >= 10, `routes with a body: ${withBody.join(', ')}`);
      const optional: string[] = [];
      for (const route of withBody) {
        const [method, path] = route.split(' ') as [string, string];
        const required = documented[path]![method.toLowerCase()]!.requestBody!.required === true;
        // Last in this suite: a route whose body may be left out really runs (an admin may call them all).
        const answer = await callRoute(route, stack.keys.admin, { noBody: true });
        const error = (answer.json as { error?: { code?: string; message?: string } }).error;
        const refusedForBody = answer.status === 400 && error?.code === 'invalid_request' && (error.message ?? '').startsWith('body');
        assert.equal(required, refusedForBody, `${route}: documented required=${required}, without a body the server answered ${answer.status} ${JSON.stringify(answer.json)}`);
        if (!required) optional.push(route);
      }
      assert.ok(optional.includes('POST /api/v1/authorizations') && optional.includes('POST /api/v1/merchants/{appId}/audit'), `optional bodies: ${optional.join(', ')}`);
      assert.deepEqual(Object.keys(documented['/readyz']?.get?.responses ?? {}).sort(), ['200', '503']);
    });
  });
}
