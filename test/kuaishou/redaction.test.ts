import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { KuaishouPlatform, MemoryTokenStore, redact, type Logger } from '../../src/kuaishou/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';
import { COMPONENT_APP_ID, COMPONENT_SECRET, TokenRoutes } from '../helpers/token-routes.ts';

const APP = 'ks_merchant_redact';
let fake: FakePlatform;

before(async () => {
  fake = await FakePlatform.start();
});
after(() => fake.close());

function capturingLogger(lines: string[]): Logger {
  const write = (fields: Record<string, unknown>, message: string): void => {
    lines.push(`${message} ${JSON.stringify(fields)}`);
  };
  return { debug: write, info: write, warn: write, error: write };
}

test('no secret appears in any error message or log line', async () => {
  const routes = new TokenRoutes(fake);
  const lines: string[] = [];
  const errors: unknown[] = [];
  const store = new MemoryTokenStore();
  const platform = KuaishouPlatform.create({
    componentAppId: COMPONENT_APP_ID,
    componentAppSecret: COMPONENT_SECRET,
    baseUrl: fake.baseUrl,
    store,
    logger: capturingLogger(lines),
    timeoutMs: 100,
    sleep: () => Promise.resolve(),
    tokens: { ticketRequestIntervalMs: 0 },
  });
  const attempt = async (work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      errors.push(error);
    }
  };

  await attempt(() => platform.listTemplates()); // no ticket
  await platform.tokens.storeTicket('ticket-1', 10_800);
  await platform.completeAuthorization(routes.authorize(APP));
  const accessToken = await platform.tokens.getAuthorizerAccessToken(APP);
  const componentToken = await platform.tokens.getComponentAccessToken();
  const refreshToken = [...routes.refreshTokens.keys()][0]!;
  const secrets = [COMPONENT_SECRET, 'ticket-1', accessToken, componentToken, refreshToken];

  // The platform echoes credentials back in its messages, in every shape we can think of.
  fake.on('/openapi/mp/auth/app/package/upload', (r) => ({
    json: {
      result: 403202,
      error_msg: `bad request access_token=${r.query.authorizer_access_token} "refreshToken":"${refreshToken}" secret ${COMPONENT_SECRET}`,
    },
  }));
  await attempt(() => platform.uploadCode(APP, { templateId: 1, userVersion: '1.0.0', userDesc: 'x', extJson: {} }));
  fake.on('/openapi/mp/auth/app/package/versions', (r) => ({ status: 500, json: { result: 100200500, error_msg: `token ${r.query.authorizer_access_token} broke` } }));
  await attempt(() => platform.getVersions(APP));
  fake.on('/openapi/mp/auth/app/package/versions', { delayMs: 300, json: { result: 1, data: {} } });
  await attempt(() => platform.getVersions(APP));
  fake.on('/openapi/mp/auth/app/package/versions', { destroy: true });
  await attempt(() => platform.getVersions(APP));
  fake.on('/openapi/mp/auth/app/package/versions', { json: { result: 1 } });
  await attempt(() => platform.getVersions(APP));
  routes.authorizerTokens.clear();
  routes.refreshTokens.clear();
  routes.authorizedApps.delete(APP);
  fake.on('/openapi/mp/auth/app/package/versions', { json: { result: 100200102, error_msg: `invalid ${accessToken}` } });
  await attempt(() => platform.getVersions(APP));

  assert.ok(errors.length >= 6, `collected ${errors.length} errors`);
  assert.ok(lines.length > 0, 'collected log lines');
  const text = [...lines, ...errors.map((error) => `${String(error)} ${inspect(error, { depth: 5 })}`)].join('\n');
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked:\n${text}`);
  assert.match(text, /\[REDACTED\]/, 'the echoed credentials were replaced, not silently dropped');
});

test('redact() scrubs credential-shaped pairs and known values', () => {
  assert.equal(redact('GET /x?authorizer_access_token=abc123&b=1'), 'GET /x?authorizer_access_token=[REDACTED]&b=1');
  assert.equal(redact('{"componentAccessToken": "xyz"}'), '{"componentAccessToken": "[REDACTED]"}');
  assert.equal(redact('the secret is s3cr3t-value!', ['s3cr3t-value']), 'the secret is [REDACTED]!');
  assert.equal(redact('version=latest'), 'version=latest');
});
