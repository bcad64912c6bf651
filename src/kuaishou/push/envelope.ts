/**
 * The HTTP body of a push: `{encryptedMsg, msgId, componentAppId, timestamp}` signed in the `kwaisign`
 * header. `openPush` is the receiver's single entry point; `sealPush` builds the same body for the
 * sandbox and the tests. Every failure of `openPush` is a `PushError`, whatever the bytes.
 */
import { Fields, isRecord } from '../decode.ts';
import { PushError, UnexpectedResponseError } from '../errors.ts';
import type { WirePushAck, WirePushEnvelope } from '../wire.ts';
import { decryptPushMessage, encryptPushMessage, signPush, verifyPushSignature } from './crypto.ts';
import { decodePushEvent, encodePushEvent } from './events.ts';
import type { KnownPushEvent, PushEvent } from './events.ts';

/** The header carrying the signature (doc). Node lower-cases header names. */
export const PUSH_SIGNATURE_HEADER = 'kwaisign';

/** What the component app registered with the platform for its pushes. */
export interface PushKeys {
  /** Message verification TOKEN. */
  token: string;
  /** Message encryption KEY: 43 base64 characters. */
  key: string;
  componentAppId: string;
}

export interface OpenedPush {
  /** Deduplicate by this: the platform resends a push until it is acknowledged. */
  msgId: string;
  /** Epoch milliseconds, as the platform stamped the push. */
  timestamp: number;
  componentAppId: string;
  event: PushEvent;
}

/** A raw payload is sent as is, so tests and the sandbox can push events this client does not know. */
export type SealablePushEvent = KnownPushEvent | { raw: Record<string, unknown> };

export interface SealPushInput {
  event: SealablePushEvent;
  msgId: string;
  /** Epoch milliseconds; defaults to now. */
  timestamp?: number;
}

export interface SealedPush {
  body: string;
  signature: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseEnvelope(rawBody: Uint8Array | string): WirePushEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : utf8.decode(rawBody));
  } catch {
    throw new PushError('bad_envelope', 'push body is not UTF-8 JSON');
  }
  if (!isRecord(parsed)) throw new PushError('bad_envelope', 'push body is not a JSON object');
  const f = new Fields(parsed, 'push envelope');
  try {
    return {
      encryptedMsg: f.string('encryptedMsg'),
      msgId: f.string('msgId'),
      componentAppId: f.string('componentAppId'),
      timestamp: f.number('timestamp'),
    };
  } catch (error) {
    if (error instanceof UnexpectedResponseError) throw new PushError('bad_envelope', error.message);
    throw error;
  }
}

/**
 * Verifies, decrypts and decodes one push. The signature is checked over the raw bytes before anything
 * is parsed, so unauthenticated input never reaches the JSON parser or the cipher.
 */
export function openPush(rawBody: Uint8Array | string, signature: string | undefined, keys: PushKeys): OpenedPush {
  if (!verifyPushSignature(rawBody, signature, keys.token)) {
    throw new PushError('bad_signature', `push signature (${PUSH_SIGNATURE_HEADER}) is missing or does not match`);
  }
  const envelope = parseEnvelope(rawBody);
  if (envelope.componentAppId !== keys.componentAppId) {
    throw new PushError('wrong_component', 'push envelope is addressed to another component app');
  }
  const plaintext = decryptPushMessage(envelope.encryptedMsg, keys.key);
  let payload: unknown;
  try {
    payload = JSON.parse(plaintext);
  } catch {
    throw new PushError('bad_plaintext', 'decrypted push message is not JSON');
  }
  const event = decodePushEvent(payload);
  // decodePushEvent only lets through records; the payload's own addressee must match the envelope's.
  const inner = isRecord(payload) ? payload.componentAppId : undefined;
  if (inner !== undefined && inner !== null && inner !== keys.componentAppId) {
    throw new PushError('wrong_component', 'push payload is addressed to another component app');
  }
  return { msgId: envelope.msgId, timestamp: envelope.timestamp, componentAppId: envelope.componentAppId, event };
}

/** Builds a signed push body exactly as the platform would send it. */
export function sealPush(input: SealPushInput, keys: PushKeys): SealedPush {
  const payload = 'raw' in input.event ? input.event.raw : encodePushEvent(input.event, keys.componentAppId);
  const envelope: WirePushEnvelope = {
    encryptedMsg: encryptPushMessage(JSON.stringify(payload), keys.key),
    msgId: input.msgId,
    componentAppId: keys.componentAppId,
    timestamp: input.timestamp ?? Date.now(),
  };
  const body = JSON.stringify(envelope);
  return { body, signature: signPush(body, keys.token) };
}

/** The answer that stops the platform from resending a push. */
export function pushAck(msgId: string): WirePushAck {
  return { result: 1, message_id: msgId };
}
