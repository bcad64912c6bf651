/**
 * Decrypted push payloads, mapped between the wire shapes of `wire.ts` and our own camelCase events.
 * Only the ticket is documented; the other event names and fields are inferred (see the contract), so
 * an event we do not know is handed on as `unknown` instead of refused: the platform retries refused
 * pushes, and a new event type must not turn into an endless retry loop.
 */
import { Fields, isRecord } from '../decode.ts';
import { CAPABILITY_FROM_WIRE, CAPABILITY_WIRE, decodePermission } from '../endpoints.ts';
import { PushError, UnexpectedResponseError } from '../errors.ts';
import type { Capability, GrantedPermission } from '../types.ts';
import type { WireCapability, WirePushEvent } from '../wire.ts';

export interface TicketPushEvent {
  type: 'ticket';
  componentAppId: string;
  ticket: string;
  expiresInS: number;
  eventTime: number;
}

export interface AuthorizedPushEvent {
  type: 'authorized' | 'authorizationUpdated';
  appId: string;
  authorizationCode: string;
  codeExpiresInS: number;
  permissions: GrantedPermission[];
  eventTime?: number;
}

export interface UnauthorizedPushEvent {
  type: 'unauthorized';
  appId: string;
  eventTime?: number;
}

export interface ReauthorizationCodePushEvent {
  type: 'reauthorizationCode';
  appId: string;
  authorizationCode: string;
  codeExpiresInS?: number;
  eventTime?: number;
}

export interface AuditResultPushEvent {
  type: 'auditResult';
  appId: string;
  userVersion: string;
  passed: boolean;
  reason?: string;
  eventTime?: number;
}

export interface CapabilityResultPushEvent {
  type: 'capabilityResult';
  appId: string;
  capability: Capability;
  status: 'approved' | 'rejected';
  reason?: string;
  eventTime?: number;
}

export interface UnknownPushEvent {
  type: 'unknown';
  /** The wire `event` name we do not know. */
  event: string;
  payload: Record<string, unknown>;
}

export type PushEvent =
  | TicketPushEvent
  | AuthorizedPushEvent
  | UnauthorizedPushEvent
  | ReauthorizationCodePushEvent
  | AuditResultPushEvent
  | CapabilityResultPushEvent
  | UnknownPushEvent;

export type PushEventType = PushEvent['type'];

/** Every event we can build a push from. */
export type KnownPushEvent = Exclude<PushEvent, { type: 'unknown' }>;

const WIRE_CAPABILITIES = Object.keys(CAPABILITY_FROM_WIRE) as WireCapability[];

// Omitting absent optionals keeps decoded events deep-equal to what was encoded.
function optional<K extends string, V>(name: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, V>);
}

function optionalNumber(f: Fields, name: string): number | undefined {
  const value = f.record[name];
  return value === undefined || value === null ? undefined : f.number(name);
}

function decodeKnown(event: string, f: Fields): PushEvent | undefined {
  const eventTime = (): Partial<Record<'eventTime', number>> => optional('eventTime', optionalNumber(f, 'eventTime'));
  switch (event) {
    case 'COMPONENT_TICKET':
      return {
        type: 'ticket',
        componentAppId: f.string('componentAppId'),
        ticket: f.string('componentTicket'),
        expiresInS: f.number('expiresIn'),
        eventTime: f.number('eventTime'),
      };
    case 'AUTHORIZED':
    case 'UPDATE_AUTHORIZED':
      return {
        type: event === 'AUTHORIZED' ? 'authorized' : 'authorizationUpdated',
        appId: f.string('authorizerAppId'),
        authorizationCode: f.string('authorizationCode'),
        codeExpiresInS: f.number('authorizationCodeExpiresIn'),
        permissions: f.objectArray('authorizePermission').map(decodePermission),
        ...eventTime(),
      };
    case 'UNAUTHORIZED':
      return { type: 'unauthorized', appId: f.string('authorizerAppId'), ...eventTime() };
    case 'RE_AUTHORIZATION_CODE':
      return {
        type: 'reauthorizationCode',
        appId: f.string('authorizerAppId'),
        authorizationCode: f.string('authorizationCode'),
        ...optional('codeExpiresInS', optionalNumber(f, 'authorizationCodeExpiresIn')),
        ...eventTime(),
      };
    case 'PACKAGE_AUDIT_RESULT':
      return {
        type: 'auditResult',
        appId: f.string('authorizerAppId'),
        userVersion: f.string('userVersion'),
        passed: f.oneOf('status', ['PASS', 'REJECT'] as const) === 'PASS',
        ...optional('reason', f.optionalString('reason')),
        ...eventTime(),
      };
    case 'CAPABILITY_RESULT':
      return {
        type: 'capabilityResult',
        appId: f.string('authorizerAppId'),
        capability: CAPABILITY_FROM_WIRE[f.oneOf('capability', WIRE_CAPABILITIES)],
        status: f.oneOf('status', ['APPROVED', 'REJECTED'] as const) === 'APPROVED' ? 'approved' : 'rejected',
        ...optional('reason', f.optionalString('reason')),
        ...eventTime(),
      };
    default:
      return undefined;
  }
}

/** Validates a decrypted payload; unknown `event` names become `{ type: 'unknown' }`. */
export function decodePushEvent(plain: unknown): PushEvent {
  if (!isRecord(plain)) throw new PushError('bad_event', 'push payload is not a JSON object');
  const event = plain.event;
  if (typeof event !== 'string' || event === '') {
    throw new PushError('bad_event', 'push payload field "event" is missing or not a non-empty string');
  }
  try {
    return decodeKnown(event, new Fields(plain, `push ${event}`)) ?? { type: 'unknown', event, payload: plain };
  } catch (error) {
    // Fields names the field, never its value (a ticket or code is a credential).
    if (error instanceof UnexpectedResponseError) throw new PushError('bad_event', error.message);
    throw error;
  }
}

/**
 * The wire payload of an event (the sandbox builds pushes with it). `componentAppId` goes into every
 * payload except the ticket's, which carries its own.
 */
export function encodePushEvent(event: KnownPushEvent, componentAppId: string): WirePushEvent {
  const common = { componentAppId, ...optional('eventTime', 'eventTime' in event ? event.eventTime : undefined) };
  switch (event.type) {
    case 'ticket':
      return {
        event: 'COMPONENT_TICKET',
        componentAppId: event.componentAppId,
        componentTicket: event.ticket,
        eventTime: event.eventTime,
        expiresIn: event.expiresInS,
      };
    case 'authorized':
    case 'authorizationUpdated':
      return {
        event: event.type === 'authorized' ? 'AUTHORIZED' : 'UPDATE_AUTHORIZED',
        ...common,
        authorizerAppId: event.appId,
        authorizationCode: event.authorizationCode,
        authorizationCodeExpiresIn: event.codeExpiresInS,
        authorizePermission: event.permissions.map(({ id, category, description }) => ({ id, category, description })),
      };
    case 'unauthorized':
      return { event: 'UNAUTHORIZED', ...common, authorizerAppId: event.appId };
    case 'reauthorizationCode':
      return {
        event: 'RE_AUTHORIZATION_CODE',
        ...common,
        authorizerAppId: event.appId,
        authorizationCode: event.authorizationCode,
        ...optional('authorizationCodeExpiresIn', event.codeExpiresInS),
      };
    case 'auditResult':
      return {
        event: 'PACKAGE_AUDIT_RESULT',
        ...common,
        authorizerAppId: event.appId,
        userVersion: event.userVersion,
        status: event.passed ? 'PASS' : 'REJECT',
        ...optional('reason', event.reason),
      };
    case 'capabilityResult':
      return {
        event: 'CAPABILITY_RESULT',
        ...common,
        authorizerAppId: event.appId,
        capability: CAPABILITY_WIRE[event.capability],
        status: event.status === 'approved' ? 'APPROVED' : 'REJECTED',
        ...optional('reason', event.reason),
      };
  }
}
