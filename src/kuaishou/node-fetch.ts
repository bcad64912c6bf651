/**
 * The client's default `fetch`: node:http(s) with a keep-alive agent, answering a standard `Response`.
 * It does only what the client needs (one request, its body, a signal) and skips the WHATWG stream
 * machinery of the global fetch, which costs more per call than the whole client does.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchLike } from './transport.ts';

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

function headersOf(message: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

export const nodeFetch: FetchLike = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input);
    const secure = url.protocol === 'https:';
    const body = typeof init.body === 'string' ? init.body : undefined;
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: init.method ?? 'GET',
        headers,
        agent: secure ? httpsAgent : httpAgent,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (message) => {
        const chunks: Buffer[] = [];
        message.on('data', (chunk: Buffer) => chunks.push(chunk));
        message.on('error', reject);
        message.on('end', () => {
          const status = message.statusCode ?? 502;
          // Status codes a Response cannot carry a body for.
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, statusText: message.statusMessage ?? '', headers: headersOf(message) }));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
