export { decryptPushMessage, encryptPushMessage, messageKeyBytes, signPush, verifyPushSignature } from './crypto.ts';
export { decodePushEvent, encodePushEvent } from './events.ts';
export type {
  AuditResultPushEvent,
  AuthorizedPushEvent,
  CapabilityResultPushEvent,
  KnownPushEvent,
  PushEvent,
  PushEventType,
  ReauthorizationCodePushEvent,
  TicketPushEvent,
  UnauthorizedPushEvent,
  UnknownPushEvent,
} from './events.ts';
export { openPush, PUSH_SIGNATURE_HEADER, pushAck, sealPush } from './envelope.ts';
export type { OpenedPush, PushKeys, SealablePushEvent, SealedPush, SealPushInput } from './envelope.ts';
