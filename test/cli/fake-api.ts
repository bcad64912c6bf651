/**
 * A loopback stand-in for the ks-isv REST API (node:http on port 0): records every request and answers
 * canned JSON, with an SSE endpoint per rollout id. Routes can be overridden per test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RolloutStatus, RolloutWithProgress } from '../../web/src/api/shapes.ts';

export const KEY = 'ksk_test_S3CRET_do_not_print_0123456789';
export const NEW_KEY = 'ksk_new_4f9c1e0b7a2d5e8f';

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
}

export type Handler = (request: Recorded, res: ServerResponse, attempt: number) => void | Promise<void>;

export interface FakeApi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const zero = { pending: 0, uploaded: 0, auditing: 0, audit_passed: 0, released: 0, rejected: 0, failed: 0, skipped: 0, rolled_back: 0 };

/** A rollout as the API answers it (typed by the generated schema, so the fake cannot drift from the server). */
export function snapshot(id: string, status: RolloutStatus, waves: { size: number; counts: Partial<typeof zero> }[], currentWave = 1): RolloutWithProgress {
  const byWave = waves.map((wave, index) => ({ wave: index + 1, size: wave.size, byState: { ...zero, ...wave.counts } }));
  const byState = { ...zero };
  for (const wave of byWave) for (const [state, n] of Object.entries(wave.byState)) byState[state as keyof typeof zero] += n;
  return {
    rollout: {
      id, origin: 'operator', promoteTo: null, kind: 'template', templateId: 3, userVersion: '1.4.0', userDesc: 'menu', domains: null, status,
      autoRelease: true, maxFailureRate: 0.2, failuresAcknowledged: 0, concurrency: 10,
      waves: byWave.map(({ wave, size }) => ({ wave, size })), currentWave, pauseReason: status === 'paused' ? 'by hand' : null,
      createdBy: 'key_op', createdAt: 1_764_000_000_000, updatedAt: 1_764_000_000_000, finishedAt: null,
    },
    progress: { total: byWave.reduce((sum, wave) => sum + wave.size, 0), byState, byWave },
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

export function apiError(res: ServerResponse, status: number, code: string, message: string, details: Record<string, unknown> = {}): void {
  json(res, status, { error: { code, message, details } });
}

/** Event scripts per rollout id: progress snapshots, then `end` with the status (or a dropped connection). */
const STREAMS: Record<string, { events: unknown[]; end?: string }[]> = {
  ro_1: [{
    events: [
      snapshot('ro_1', 'running', [{ size: 1, counts: { pending: 1 } }, { size: 2, counts: { pending: 2 } }]),
      snapshot('ro_1', 'running', [{ size: 1, counts: { released: 1 } }, { size: 2, counts: { auditing: 2 } }], 2),
      snapshot('ro_1', 'completed', [{ size: 1, counts: { released: 1 } }, { size: 2, counts: { released: 2 } }], 2),
    ],
    end: 'completed',
  }],
  ro_aborted: [{
    events: [
      snapshot('ro_aborted', 'running', [{ size: 4, counts: { released: 1, pending: 3 } }]),
      snapshot('ro_aborted', 'aborted', [{ size: 4, counts: { released: 1, skipped: 3 } }]),
    ],
    end: 'aborted',
  }],
  ro_failed: [{
    events: [snapshot('ro_failed', 'completed', [{ size: 3, counts: { released: 2, failed: 1 } }])],
    end: 'completed',
  }],
  // The first connection drops after one event; the second finishes.
  ro_drop: [
    { events: [snapshot('ro_drop', 'running', [{ size: 2, counts: { released: 1, auditing: 1 } }])] },
    { events: [snapshot('ro_drop', 'completed', [{ size: 2, counts: { released: 2 } }])], end: 'completed' },
  ],
  // Drops every time: the CLI gives up after one reconnection without news.
  ro_flaky: [{ events: [] }, { events: [] }, { events: [] }],
};

async function stream(res: ServerResponse, script: { events: unknown[]; end?: string } | undefined): Promise<void> {
  if (!script) return apiError(res, 404, 'not_found', 'rollout not found');
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
  res.write(': keep-alive\n\n');
  for (const event of script.events) {
    // Split across writes (and CRLF for one field) so the parser has to reassemble.
    const text = `event: progress\r\ndata: ${JSON.stringify(event)}\n\n`;
    res.write(text.slice(0, 25));
    await new Promise((resolve) => setTimeout(resolve, 5));
    res.write(text.slice(25));
  }
  if (script.end) {
    res.end(`event: end\ndata: ${JSON.stringify({ status: script.end })}\n\n`);
  } else {
    // Let the written events leave before the connection drops.
    await new Promise((resolve) => setTimeout(resolve, 50));
    res.socket?.destroy();
  }
}

const pages: Record<string, { items: unknown[]; nextCursor: string | null }> = {
  '': { items: [{ appId: 'ks01', name: '川味小馆', status: 'authorized', authorizedAt: 1_764_000_000_000, lastAudit: { userVersion: '1.3.0', state: 'passed' } }, { appId: 'ks02', name: null, status: 'authorized', authorizedAt: 1_764_000_000_000, lastAudit: null }], nextCursor: 'c2' },
  c2: { items: [{ appId: 'ks03', name: 'Bakery', status: 'revoked', authorizedAt: 1_764_000_000_000, lastAudit: null }], nextCursor: null },
};

const ROUTES: Record<string, Handler> = {
  'POST /api/v1/rollouts': (_req, res) => json(res, 201, snapshot('ro_1', 'running', [{ size: 1, counts: { pending: 1 } }, { size: 2, counts: { pending: 2 } }])),
  'GET /api/v1/rollouts': (_req, res) => json(res, 200, { items: [snapshot('ro_1', 'running', [{ size: 3, counts: {} }]).rollout], nextCursor: null }),
  'GET /api/v1/rollouts/ro_1': (_req, res) => json(res, 200, snapshot('ro_1', 'running', [{ size: 10, counts: { released: 5, rejected: 1, auditing: 4 } }])),
  'GET /api/v1/rollouts/ro_1/targets': (_req, res) =>
    json(res, 200, { items: [{ appId: 'ks01', wave: 1, state: 'failed', attempts: 3, nextRunAt: 0, lastErrorCode: 'PLATFORM_BUSY', lastError: 'try later', updatedAt: 1_764_000_000_000 }], nextCursor: null }),
  'GET /api/v1/rollouts/ro_echo': (req, res) => apiError(res, 400, 'invalid_request', `did not like ${req.authorization ?? ''}`),
  'POST /api/v1/rollouts/ro_done/pause': (_req, res) => apiError(res, 409, 'conflict', 'rollout ro_done is completed', { status: 'completed' }),
  'GET /api/v1/merchants': (req, res) => json(res, 200, pages[req.query.cursor ?? ''] ?? { items: [], nextCursor: null }),
  'POST /api/v1/merchants/ks01/onboarding/start': (_req, res) =>
    json(res, 200, { outcome: 'started', reason: null, rolloutId: 'ro_onb', onboarding: { status: 'in_progress', channel: 'stable', rolloutId: 'ro_onb', reason: null, missingPermissions: [], timeline: [] } }),
  'POST /api/v1/keys': (req, res) => {
    const body = req.body as { name: string; role: string };
    json(res, 201, { id: 'key_9', name: body.name, role: body.role, key: NEW_KEY });
  },
};
for (const name of ['pause', 'resume', 'abort', 'rollback', 'release']) {
  ROUTES[`POST /api/v1/rollouts/ro_1/${name}`] = (_req, res) => json(res, 200, snapshot('ro_1', name === 'pause' ? 'paused' : 'running', [{ size: 3, counts: { released: 1, pending: 2 } }]));
}

async function recordOf(req: IncomingMessage): Promise<Recorded> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const url = new URL(req.url ?? '/', 'http://fake');
  return {
    method: req.method ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    authorization: req.headers.authorization,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

export async function startFakeApi(overrides: Record<string, Handler> = {}): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const attempts = new Map<string, number>();
  const routes = { ...ROUTES, ...overrides };
  const server = createServer((req, res) => {
    void (async () => {
      const recorded = await recordOf(req);
      requests.push(recorded);
      const route = `${recorded.method} ${recorded.path}`;
      const attempt = attempts.get(route) ?? 0;
      attempts.set(route, attempt + 1);
      if (recorded.authorization !== `Bearer ${KEY}`) return apiError(res, 401, 'unauthenticated', 'an API key is required: Authorization: Bearer <key>');
      const handler = routes[route];
      if (handler) return handler(recorded, res, attempt);
      const events = /^GET \/api\/v1\/rollouts\/([^/]+)\/events$/.exec(route);
      if (events) return stream(res, STREAMS[events[1] ?? '']?.[attempt]);
      apiError(res, 404, 'not_found', `no route ${route}`);
    })().catch((error: unknown) => {
      if (!res.headersSent) apiError(res, 500, 'internal', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
