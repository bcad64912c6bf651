/**
 * A loopback push receiver: what a component app's authorization-event and message URLs do, for tests.
 * Every POST is verified and decrypted with the client's own `openPush` (so the sandbox is checked against
 * the contract, not against itself) and answered `pushAck(msgId)`. Opened pushes and rejected ones are
 * recorded; the receiver can be told to answer wrongly a number of times so resends can be observed.
 *
 *   const receiver = await PushReceiver.start(keys);
 *   PUT /sandbox/api/component { authEventUrl: receiver.authEventUrl, messageUrl: receiver.messageUrl }
 *   const ticket = await receiver.waitForEvent('ticket');
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PushError } from '../../src/kuaishou/errors.ts';
import { openPush, PUSH_SIGNATURE_HEADER, pushAck } from '../../src/kuaishou/push/index.ts';
import type { OpenedPush, PushEvent, PushEventType, PushKeys } from '../../src/kuaishou/push/index.ts';

/** How a deliberately wrong answer looks. */
export type FailureMode =
  /** HTTP 500 with an otherwise correct ack. */
  | 'http500'
  /** HTTP 200, `{"result":1,"message_id":"<another id>"}`. */
  | 'wrongMessageId'
  /** HTTP 200, `{"result":0,"message_id":<msgId>}`. */
  | 'wrongResult'
  /** HTTP 200 with a body that is not JSON. */
  | 'notJson';

/** The event type whose `type` can be `K` (`authorized` and `authorizationUpdated` share one interface). */
export type EventOf<K extends PushEventType, E = PushEvent> = E extends { type: infer T } ? (K extends T ? E : never) : never;

/** Which registered URL a push came to. */
export type ReceiverPath = 'authEvent' | 'message' | 'other';

export interface ReceivedPush extends OpenedPush {
  path: ReceiverPath;
  receivedAt: number;
  /** 1 for the first delivery of this msgId, 2 for the first resend… */
  delivery: number;
  /** Whether this delivery was answered with the correct ack. */
  acknowledged: boolean;
  /** The wrong answer given instead, if any. */
  failedWith?: FailureMode;
}

export interface RejectedPush {
  path: ReceiverPath;
  receivedAt: number;
  /** `PushError` code, or `not_post` for a request that is not a POST. */
  code: string;
  message: string;
}

export const AUTH_EVENT_PATH = '/push/auth-events';
export const MESSAGE_PATH = '/push/messages';

export class PushReceiver {
  /** Every push that verified and decrypted, each delivery (resends included), in arrival order. */
  readonly received: ReceivedPush[] = [];
  /** Every request `openPush` refused; answered HTTP 400. */
  readonly rejected: RejectedPush[] = [];
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url = '';
  private failuresLeft = 0;
  private failureMode: FailureMode = 'http500';
  private readonly server: Server;

  private constructor(public keys: PushKeys) {
    // A sender that gives up mid-request (its timeout, a closing sandbox) must not crash the test process.
    this.server = createServer((request, response) => void this.handle(request, response).catch(() => response.destroy()));
  }

  static async start(keys: PushKeys): Promise<PushReceiver> {
    const receiver = new PushReceiver(keys);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  get authEventUrl(): string {
    return `${this.url}${AUTH_EVENT_PATH}`;
  }

  get messageUrl(): string {
    return `${this.url}${MESSAGE_PATH}`;
  }

  /** The next `n` verified pushes are answered wrongly (`Infinity`: until `failNext(0)`). */
  failNext(n: number, mode: FailureMode = 'http500'): void {
    this.failuresLeft = n;
    this.failureMode = mode;
  }

  /** Each push once (its first delivery), in arrival order. */
  unique(): ReceivedPush[] {
    return this.received.filter((push) => push.delivery === 1);
  }

  /** Deliveries of one msgId. */
  deliveries(msgId: string): ReceivedPush[] {
    return this.received.filter((push) => push.msgId === msgId);
  }

  /** First pushes of one event type (optionally filtered), in arrival order. */
  events<K extends PushEventType>(type: K, filter: (event: EventOf<K>) => boolean = () => true): (ReceivedPush & { event: EventOf<K> })[] {
    return this.unique().filter(
      (push): push is ReceivedPush & { event: EventOf<K> } =>
        push.event.type === type && filter(push.event as EventOf<K>),
    );
  }

  /** Polls `predicate` until it returns something truthy (returned), or fails after `timeoutMs`. */
  async waitFor<T>(predicate: (receiver: this) => T | undefined | null | false, timeoutMs = 5000, what = 'push'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate(this);
      if (value) return value;
      if (Date.now() >= deadline) {
        const seen = this.received.map((push) => `${push.event.type}#${push.delivery}`).join(', ') || 'none';
        throw new Error(`PushReceiver: timed out after ${timeoutMs} ms waiting for ${what} (received: ${seen}; rejected: ${this.rejected.length})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The first push of `type` (matching `filter`) not already in `after`, waiting for it if needed. */
  waitForEvent<K extends PushEventType>(
    type: K,
    filter: (event: EventOf<K>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ReceivedPush & { event: EventOf<K> }> {
    return this.waitFor((receiver) => receiver.events(type, filter)[0], timeoutMs, `a ${type} push`);
  }

  /** Forgets what was received and stops failing. */
  clear(): void {
    this.received.length = 0;
    this.rejected.length = 0;
    this.failuresLeft = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const pathname = new URL(request.url ?? '/', 'http://receiver').pathname;
    const path: ReceiverPath = pathname === AUTH_EVENT_PATH ? 'authEvent' : pathname === MESSAGE_PATH ? 'message' : 'other';
    const receivedAt = Date.now();
    if (request.method !== 'POST') {
      this.rejected.push({ path, receivedAt, code: 'not_post', message: `${request.method ?? '?'} is not a push` });
      return this.answer(response, 405, { error: 'POST only' });
    }
    let opened: OpenedPush;
    try {
      const signature = request.headers[PUSH_SIGNATURE_HEADER];
      opened = openPush(raw, Array.isArray(signature) ? signature[0] : signature, this.keys);
    } catch (error) {
      const code = error instanceof PushError ? error.code : 'unexpected';
      this.rejected.push({ path, receivedAt, code, message: error instanceof Error ? error.message : String(error) });
      return this.answer(response, 400, { error: code });
    }
    const delivery = this.received.filter((push) => push.msgId === opened.msgId).length + 1;
    const failing = this.failuresLeft > 0;
    if (failing) this.failuresLeft--;
    this.received.push({
      ...opened,
      path,
      receivedAt,
      delivery,
      acknowledged: !failing,
      ...(failing ? { failedWith: this.failureMode } : {}),
    });
    if (!failing) return this.answer(response, 200, pushAck(opened.msgId));
    switch (this.failureMode) {
      case 'http500':
        return this.answer(response, 500, pushAck(opened.msgId));
      case 'wrongMessageId':
        return this.answer(response, 200, pushAck(`not-${opened.msgId}`));
      case 'wrongResult':
        return this.answer(response, 200, { result: 0, message_id: opened.msgId });
      case 'notJson':
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('ok');
        return;
    }
  }

  private answer(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }
}
