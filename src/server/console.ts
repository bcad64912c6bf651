/**
 * Serves the admin console (`web/`, built by `npm run build:web` into `web/dist`) at `/` with
 * @fastify/static: files with their content type, ETag and Last-Modified, hashed assets cached for a year,
 * everything else revalidated, and the single-page app's index.html for any other browser navigation
 * outside the API. Without a build, `/` says so plainly.
 */
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the server: never answered with the console's page. */
const SERVER_PREFIXES = ['/api/', '/api', '/callbacks', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics'];

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

/** A request path without its query, or undefined when its percent-encoding is broken. */
function pathOf(request: FastifyRequest): string | undefined {
  try {
    return decodeURIComponent(request.url.split('?')[0] ?? '/');
  } catch {
    return undefined;
  }
}

export interface ConsoleFiles {
  /** For a request no route took: the console's page if it is a browser navigation to one (true: answered). */
  fallback(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

/**
 * `/` as a route; the hashed assets through @fastify/static's wildcard route under `/assets/` (a file that is
 * not there goes on to the not-found handler); the build's other files and the console's pages through
 * `fallback`, called by the not-found handler. No wildcard covers the server's own paths, so they keep
 * their JSON 404 (and the router's 414 for over-long parameters).
 */
export async function consoleRoutes(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): Promise<ConsoleFiles> {
  const root = resolve(dir);
  const assets = join(root, 'assets');

  await app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    index: false,
    // The build's stamp (.built) and any other dotfile are not the console's.
    dotfiles: 'ignore',
    // Set per file below: @fastify/static's own would give every file the same policy.
    cacheControl: false,
    schemaHide: true,
    // Files are looked up per request: the console may be rebuilt while the server runs.
    wildcard: true,
    suppressWarning: true,
    setHeaders(reply, path) {
      // Vite names assets by content hash: a name never changes meaning. index.html names the current ones.
      void reply.header('cache-control', path.startsWith(assets + sep) ? 'public, max-age=31536000, immutable' : 'no-cache');
      // mime@3 (behind @fastify/send) still says application/javascript; RFC 9239 made it text/javascript.
      if (/\.m?js$/.test(path)) void reply.header('content-type', 'text/javascript; charset=utf-8');
    },
  });

  const isFile = async (file: string): Promise<boolean> => (await stat(file).catch(() => undefined))?.isFile() ?? false;

  const sendIndex = async (reply: FastifyReply): Promise<void> => {
    if (!(await isFile(join(root, 'index.html')))) {
      await reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      return;
    }
    await reply.code(200).sendFile('index.html', root);
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));

  return {
    async fallback(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = pathOf(request);
      if (path === undefined || isServerPath(path)) return false;
      if (extname(path) !== '') {
        // A file of the build outside /assets (favicon.svg, Vite's public/ files): never a dotfile, never outside it.
        const file = resolve(root, `.${path}`);
        if (!file.startsWith(root + sep) || file.startsWith(assets + sep) || /\/\./.test(path) || !(await isFile(file))) return false;
        await reply.code(200).sendFile(file.slice(root.length + 1), root);
        return true;
      }
      // A browser navigating to one of the console's own pages (/merchants/ks…): the app routes it.
      if (wantsHtml(request)) {
        await sendIndex(reply);
        return true;
      }
      return false;
    },
  };
}
