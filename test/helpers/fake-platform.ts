/**
 * A programmable stand-in for the Kuaishou Open Platform on a real loopback port: every request is
 * recorded (method, path, query, JSON body) and answered by the route the test installs for its path.
 * It is deliberately dumb; the faithful platform is `src/sandbox`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface FakeAnswer {
  status?: number;
  json?: unknown;
  bytes?: Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (to trigger client timeouts). */
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export type Route = (request: RecordedRequest, count: number) => FakeAnswer | Promise<FakeAnswer>;

export class FakePlatform {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly counts = new Map<string, number>();
  private server: Server | undefined;
  baseUrl = '';

  static async start(): Promise<FakePlatform> {
    const platform = new FakePlatform();
    await platform.listen();
    return platform;
  }

  /** Answers `path` with `route` from now on. */
  on(path: string, route: Route | FakeAnswer): this {
    this.routes.set(path, typeof route === 'function' ? route : () => route);
    return this;
  }

  /** How many requests reached `path`. */
  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  calls(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  reset(): void {
    this.requests.length = 0;
    this.counts.clear();
    this.routes.clear();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    return new Promise((resolve) => {
      this.server!.listen(0, '127.0.0.1', () => {
        const { port } = this.server!.address() as AddressInfo;
        this.baseUrl = `http://127.0.0.1:${port}`;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      // JSON bodies parsed; form bodies (R2) as their fields.
      body: raw === '' ? undefined : String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw) as unknown),
      headers: req.headers,
    };
    this.requests.push(recorded);
    const count = (this.counts.get(url.pathname) ?? 0) + 1;
    this.counts.set(url.pathname, count);
    const route = this.routes.get(url.pathname);
    const answer: FakeAnswer = route ? await route(recorded, count) : { status: 404, json: { result: 404, errorMsg: 'no route' } };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.destroy) {
      req.socket.destroy();
      return;
    }
    const payload = answer.bytes ?? Buffer.from(JSON.stringify(answer.json ?? { result: 1 }));
    res.writeHead(answer.status ?? 200, {
      'content-type': answer.contentType ?? (answer.bytes ? 'application/octet-stream' : 'application/json'),
      ...answer.headers,
    });
    res.end(payload);
  }
}
