/**
 * A platform that differs from the table in known ways, for the probe: a node:http server that passes
 * every request on to a real sandbox, except that A7's answer has its `data` field renamed, A2's path
 * answers 404, and A7's unchanged answer is also served at an alternate path (for KS_ENDPOINTS_FILE).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENDPOINTS } from '../../src/kuaishou/index.ts';

/** The field of A7's answer the double renames, and its new name. */
export const RENAMED = { from: 'data', to: 'package_versions' } as const;
/** Where the double serves A7 as the table describes it. */
export const ALTERNATE_VERSIONS_PATH = '/openapi/mp/auth/app/package/v2/versions';

export interface PlatformDouble {
  url: string;
  /** Paths asked for, in order. */
  paths: string[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function forward(upstream: string, path: string, search: string, request: IncomingMessage, body: Buffer): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'accept']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return fetch(`${upstream}${path}${search}`, {
    method: request.method ?? 'GET',
    headers,
    ...(request.method === 'POST' ? { body } : {}),
  });
}

async function pass(response: Response, res: ServerResponse): Promise<void> {
  const bytes = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' }).end(bytes);
}

export async function startPlatformDouble(upstream: string): Promise<PlatformDouble> {
  const paths: string[] = [];
  const server = createServer((request, res) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://double');
      paths.push(url.pathname);
      const body = await readBody(request);
      if (url.pathname === ENDPOINTS.webviewDomains.path) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'no such route' }));
        return;
      }
      if (url.pathname === ENDPOINTS.getVersions.path) {
        const answer = await forward(upstream, url.pathname, url.search, request, body);
        const json = (await answer.json()) as Record<string, unknown>;
        const { [RENAMED.from]: moved, ...rest } = json;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ ...rest, [RENAMED.to]: moved }));
        return;
      }
      const path = url.pathname === ALTERNATE_VERSIONS_PATH ? ENDPOINTS.getVersions.path : url.pathname;
      await pass(await forward(upstream, path, url.search, request, body), res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
