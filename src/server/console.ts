/**
 * Serves the admin console (`web/`, built by `npm run build:web` into `web/dist`) at `/`: files with their
 * content type, hashed assets cached for a year, and the single-page app's index.html for any other
 * browser navigation outside the API. Without a build, `/` says so plainly.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the server: never answered with the console's page. */
const SERVER_PREFIXES = ['/api/', '/api', '/callbacks', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ks-isv</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>ks-isv</h1><p>The admin console is not built. Run <code>npm run build:web</code> (<code>npm start</code> does it), then reload.</p>
<p>控制台尚未构建：请运行 <code>npm run build:web</code>（<code>npm start</code> 会自动构建），然后刷新。</p>
<p>The REST API is at <a href="/api/v1/merchants">/api/v1</a>, its documentation at <a href="/docs">/docs</a>.</p></body></html>`;

function isServerPath(path: string): boolean {
  return SERVER_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
}

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

export interface ConsoleFiles {
  /** For a request no route took: a console file or page if it is one (true: answered). */
  fallback(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

/**
 * `/` as a route; every other console file and page through `fallback`, called by the
 * not-found handler, so the server's own paths keep their JSON 404 (and 414 for over-long parameters).
 */
export function consoleRoutes(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): ConsoleFiles {
  const root = resolve(dir);

  const sendIndex = async (reply: FastifyReply): Promise<void> => {
    let html: Buffer;
    try {
      html = await readFile(join(root, 'index.html'));
    } catch {
      await reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      return;
    }
    // index.html names the hashed assets of the current build: always revalidated.
    await reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };

  /** A file of the build (never outside it); false when there is none. */
  const sendFile = async (path: string, reply: FastifyReply): Promise<boolean> => {
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep) || extname(file) === '') return false;
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return false;
    const immutable = path.startsWith('/assets/');
    await reply
      .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('content-length', String(info.size))
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(file));
    return true;
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));

  return {
    async fallback(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      let path: string;
      try {
        path = decodeURIComponent(request.url.split('?')[0] ?? '/');
      } catch {
        return false;
      }
      if (isServerPath(path)) return false;
      if (await sendFile(path, reply)) return true;
      // A browser navigating to one of the console's own pages (/merchants/ks…): the app routes it.
      if (extname(path) === '' && wantsHtml(request)) {
        await sendIndex(reply);
        return true;
      }
      return false;
    },
  };
}
