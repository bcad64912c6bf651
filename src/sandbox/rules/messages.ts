/**
 * R2, subscription messages: form fields checked in order (template, user, data, page), at most
 * `MESSAGE_RATE_PER_SEC` accepted sends per app in any second, the last `MAX_MESSAGES_PER_APP` kept per app.
 */
import { randomBytes } from 'node:crypto';
import type { MiniAppRecord, SentMessage } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';
import { own, type SandboxState } from '../state.ts';
import { userByOpenId } from './users.ts';

export const MESSAGE_RATE_PER_SEC = 100;
export const MAX_MESSAGES_PER_APP = 1000;
export const MAX_MESSAGE_PAGE_LENGTH = 512;
const TEMPLATE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A form field given once, as text; a repeated field is refused (which value would count?). */
function field(body: Record<string, unknown>, name: string): string | undefined {
  const value = own(body, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SandboxError('INVALID_PARAMS', `${name} must be given once, as text`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Accepted sends per app in the last second (a sliding window: any 101 sends within 1 s meet a refusal). */
export class MessageRateLimit {
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly perSecond = MESSAGE_RATE_PER_SEC) {}

  check(appId: string, now = Date.now()): void {
    const times = this.sent.get(appId);
    if (!times) return;
    while (times.length > 0 && times[0]! <= now - 1000) times.shift();
    if (times.length >= this.perSecond) throw new SandboxError('RATE_LIMITED', 'api rate limit: at most 100 subscription messages per second per mini-program', 429);
  }

  record(appId: string, now = Date.now()): void {
    const times = this.sent.get(appId) ?? [];
    times.push(now);
    this.sent.set(appId, times);
  }

  reset(): void {
    this.sent.clear();
  }
}

/** R2: checks the fields, then records the message for the control API. */
export function sendMessage(state: SandboxState, app: MiniAppRecord, body: Record<string, unknown>): SentMessage {
  const templateId = field(body, 'template_id');
  if (templateId === undefined || !TEMPLATE_ID.test(templateId)) {
    throw new SandboxError('MESSAGE_TEMPLATE_INVALID', 'template_id must be 1–64 characters of A–Z, a–z, 0–9, _ and -');
  }
  const openId = field(body, 'to_user');
  const user = openId ? userByOpenId(state, app.appId, openId) : undefined;
  if (!openId || !user) throw new SandboxError('MESSAGE_USER_INVALID');
  const text = field(body, 'data');
  let data: unknown;
  try {
    data = text === undefined ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!isObject(data)) throw new SandboxError('MESSAGE_DATA_INVALID', 'data must be the JSON text of an object');
  const page = field(body, 'page');
  if (page !== undefined && page.length > MAX_MESSAGE_PAGE_LENGTH) throw new SandboxError('INVALID_PARAMS', `page: at most ${MAX_MESSAGE_PAGE_LENGTH} characters`);
  const message: SentMessage = {
    messageId: `msg_${randomBytes(8).toString('hex')}`,
    appId: app.appId,
    openId,
    userId: user.userId,
    templateId,
    page: page ?? null,
    data,
    sentAt: Date.now(),
  };
  const kept = (state.data.users.messages[app.appId] ??= []);
  kept.push(message);
  if (kept.length > MAX_MESSAGES_PER_APP) kept.splice(0, kept.length - MAX_MESSAGES_PER_APP);
  state.changed();
  return message;
}

/** Newest first. */
export function messagesOf(state: SandboxState, appId: string): SentMessage[] {
  return [...(own(state.data.users.messages, appId) ?? [])].reverse();
}
