/**
 * Outgoing pushes, as the platform sends them: sealed (AES-CBC + kwaisign), POSTed to the component's
 * registered URL, resent up to 3 times until the answer is `{"result":1,"message_id":<msgId>}`. Every
 * attempt is kept (the most recent `maxRecords` pushes) for `GET /sandbox/api/pushes`.
 */
import { randomUUID } from 'node:crypto';
import { PUSH_SIGNATURE_HEADER, sealPush, type SealablePushEvent } from '../kuaishou/push/index.ts';
import type { SandboxState } from './state.ts';

export type PushTarget = 'authEvent' | 'message';

export interface PushAttempt {
  at: number;
  status?: number;
  ok: boolean;
  error?: string;
}

export interface PushRecord {
  id: number;
  msgId: string;
  target: PushTarget;
  url: string;
  event: string;
  appId?: string;
  createdAt: number;
  attempts: PushAttempt[];
  /** Acknowledged by the receiver. */
  delivered: boolean;
  /** No further attempt will be made. */
  done: boolean;
}

export const PUSH_RESENDS = 3;

export interface PushDelivererOptions {
  /** Delay before the first resend; doubles after each. */
  retryDelayMs: number;
  timeoutMs?: number;
  maxRecords?: number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export class PushDeliverer {
  private readonly log: PushRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private serial = 0;
  /** Bumped by `close()`: attempts of an older generation are not resent. */
  private generation = 0;

  constructor(
    private readonly state: SandboxState,
    private readonly options: PushDelivererOptions,
  ) {}

  /** Queues one push; returns its record at once (delivery proceeds in the background). */
  send(target: PushTarget, event: SealablePushEvent, appId?: string): PushRecord {
    const { component } = this.state;
    const record: PushRecord = {
      id: ++this.serial,
      msgId: randomUUID(),
      target,
      url: target === 'authEvent' ? component.authEventUrl : component.messageUrl,
      event: 'raw' in event ? String(event.raw.event) : event.type,
      ...(appId ? { appId } : {}),
      createdAt: Date.now(),
      attempts: [],
      delivered: false,
      done: false,
    };
    this.log.push(record);
    if (this.log.length > (this.options.maxRecords ?? 5000)) this.log.shift();
    if (!record.url) {
      record.attempts.push({ at: Date.now(), ok: false, error: `no ${target === 'authEvent' ? 'authorization-event' : 'message'} URL registered` });
      record.done = true;
      return record;
    }
    const sealed = sealPush({ event, msgId: record.msgId }, {
      token: component.messageToken,
      key: component.messageKey,
      componentAppId: component.componentAppId,
    });
    this.track(this.attempt(record, sealed.body, sealed.signature, 0, this.generation));
    return record;
  }

  records(): readonly PushRecord[] {
    return this.log;
  }

  clear(): void {
    this.log.length = 0;
  }

  /** Resolves when no delivery is in flight or waiting for a resend. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.timers.size > 0) {
      await Promise.race([...this.inFlight, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
  }

  /**
   * Cancels every pending resend (attempts in flight finish but are not resent). Not a terminal state:
   * `runtime.reset()` closes and then keeps pushing, and those later pushes must still be resent.
   */
  close(): void {
    this.generation++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async attempt(record: PushRecord, body: string, signature: string, resend: number, generation: number): Promise<void> {
    const attempt: PushAttempt = { at: Date.now(), ok: false };
    try {
      const response = await (this.options.fetch ?? fetch)(record.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [PUSH_SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      attempt.status = response.status;
      const answer = (await response.json().catch(() => undefined)) as { result?: unknown; message_id?: unknown } | undefined;
      attempt.ok = response.ok && answer?.result === 1 && answer.message_id === record.msgId;
      if (!attempt.ok) attempt.error = 'answer was not {"result":1,"message_id":<msgId>}';
    } catch (error) {
      attempt.error = error instanceof Error ? error.message : String(error);
    }
    record.attempts.push(attempt);
    if (attempt.ok) {
      record.delivered = true;
      record.done = true;
      return;
    }
    if (resend >= PUSH_RESENDS || generation !== this.generation) {
      record.done = true;
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.track(this.attempt(record, body, signature, resend + 1, generation));
    }, this.options.retryDelayMs * 2 ** resend);
    timer.unref();
    this.timers.add(timer);
  }
}
