import { answerShape, type AnswerShape } from './answer-shape.ts';
import { Fields, isRecord } from './decode.ts';
import { SUCCESS_RESULT, type Endpoint, type RawAnswer } from './endpoints.ts';
import { createKuaishouError } from './error-factory.ts';
import { KuaishouError, TransportError } from './errors.ts';
import type { Logger } from './logger.ts';
import { backoffDelayMs, shouldRetry, type RetryBudget, type RetryPolicy } from './retry.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  baseUrl: string;
  fetch: FetchLike;
  timeoutMs: number;
  retry: RetryPolicy;
  budget: RetryBudget;
  logger: Logger;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

export interface OutgoingRequest {
  operation: string;
  endpoint: Endpoint<never, unknown>;
  query: Record<string, string>;
  body: unknown;
  /** Credential values in this request: never written anywhere. */
  secrets: readonly string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Told the shape (status, media type, field names — no values) of every answer received, error or not. */
  onAnswer?: (shape: AnswerShape) => void;
}

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' };
const FORM_HEADERS = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
const GET_HEADERS = { accept: 'application/json, image/png' };

/** A POST body as the row wants it on the wire: JSON, or form fields (every value already text). */
function encodeBody(endpoint: Endpoint<never, unknown>, body: unknown): { headers: Record<string, string>; text: string } {
  if (endpoint.encoding !== 'form') return { headers: JSON_HEADERS, text: JSON.stringify(body ?? {}) };
  const fields = new URLSearchParams();
  for (const [name, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (value === undefined) continue;
    fields.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return { headers: FORM_HEADERS, text: fields.toString() };
}

/** Sends one endpoint call: URL, timeout, typed errors, and resends under the policy and the budget. */
const TIMEOUT_SLOT_MS = 50;

export class Transport {
  private readonly baseUrl: string;
  private slotKey = '';
  private slotSignal: AbortSignal | undefined;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async send(request: OutgoingRequest): Promise<RawAnswer> {
    const { retry, budget, logger } = this.options;
    let spent = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.sendOnce(request);
        budget.recordSuccess(spent);
        return answer;
      } catch (caught) {
        const error = caught instanceof KuaishouError ? caught : unexpected(request.operation, caught);
        error.attempts = attempt + 1;
        if (attempt >= retry.retries || !shouldRetry(error, request.endpoint.idempotent, retry)) throw error;
        const cost = budget.costOf(error);
        if (!budget.tryWithdraw(cost)) {
          logger.warn({ operation: request.operation, attempt: attempt + 1, error: error.message }, 'kuaishou retry budget exhausted; failing fast');
          throw error;
        }
        spent += cost;
        const delayMs = backoffDelayMs(attempt, retry, error, this.options.random);
        logger.warn(
          { operation: request.operation, attempt: attempt + 1, delayMs, error: error.message },
          'kuaishou call failed; retrying',
        );
        try {
          await this.options.sleep(delayMs, request.signal);
        } catch {
          throw new TransportError(`${request.operation} was aborted by the caller`, { operation: request.operation, aborted: true });
        }
      }
    }
  }

  private async sendOnce(request: OutgoingRequest): Promise<RawAnswer> {
    const { endpoint, operation, secrets } = request;
    const url = `${this.baseUrl}${endpoint.path}?${new URLSearchParams(request.query).toString()}`;
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs;
    const timeout = this.timeoutSignal(timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    const isPost = endpoint.method === 'POST';
    const post = isPost ? encodeBody(endpoint, request.body) : undefined;
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await this.options.fetch(url, {
        method: endpoint.method,
        headers: post ? post.headers : GET_HEADERS,
        body: post ? post.text : null,
        signal,
      });
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw createKuaishouError({
        type: 'no-answer',
        operation,
        error,
        timedOut: timeout.aborted,
        timeoutMs,
        aborted: request.signal?.aborted ?? false,
        secrets,
      });
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (endpoint.binary && response.ok && contentType.startsWith('image/')) {
      request.onAnswer?.(answerShape(response.status, contentType, undefined));
      return { kind: 'binary', contentType, bytes };
    }
    const body = parseJson(bytes);
    request.onAnswer?.(answerShape(response.status, contentType, body, secrets));
    if (!response.ok || !isRecord(body) || body.result !== SUCCESS_RESULT) {
      throw createKuaishouError({
        type: 'answer',
        operation,
        style: endpoint.style,
        httpStatus: response.status,
        body,
        retryAfter: response.headers.get('retry-after'),
        secrets,
      });
    }
    return { kind: 'json', fields: new Fields(body, operation) };
  }

  /**
   * One timeout signal per 50 ms slot and timeout length, shared by the calls started in that slot: each
   * call still times out after `timeoutMs` (up to 50 ms later), without a timer and a controller of its
   * own — measurably cheaper when hundreds of calls are in flight.
   */
  private timeoutSignal(timeoutMs: number): AbortSignal {
    const slot = Math.floor(Date.now() / TIMEOUT_SLOT_MS);
    const key = `${timeoutMs}:${slot}`;
    if (this.slotKey !== key) {
      this.slotKey = key;
      this.slotSignal = AbortSignal.timeout(timeoutMs + TIMEOUT_SLOT_MS);
    }
    return this.slotSignal!;
  }
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function unexpected(operation: string, error: unknown): KuaishouError {
  // Only our own bugs land here; keep the type, drop any text that could echo a request.
  return new TransportError(`${operation}: unexpected client failure (${error instanceof Error ? error.name : typeof error})`, {
    operation,
  });
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
