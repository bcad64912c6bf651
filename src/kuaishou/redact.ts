/**
 * Redaction of credentials from any text that may reach a log line or an error message.
 * Two nets: credential-shaped `name=value` / `"name": "value"` pairs, and the exact secret values the
 * caller knows were in play (the request's own credentials).
 */

export const REDACTED = '[REDACTED]';

/** Query parameter names that carry credentials (wire names and common spellings). */
const SECRET_PARAMS = [
  'access_token',
  'component_access_token',
  'authorizer_access_token',
  'component_app_secret',
  'app_secret',
  'secret',
  'component_verify_ticket',
  'component_ticket',
  'ticket',
  'authorizer_refresh_token',
  'refresh_token',
  'authorization_code',
  'pre_auth_code',
  'code',
  'js_code',
  'session_key',
  'encrypt_key',
  'message_key',
  'token',
];

/** JSON keys that carry credentials. */
const SECRET_KEYS = [
  'componentAccessToken',
  'authorizerAccessToken',
  'authorizerRefreshToken',
  'accessToken',
  'refreshToken',
  'componentTicket',
  'componentAppSecret',
  'appSecret',
  'secret',
  'preAuthCode',
  'authorizationCode',
  'encryptedMsg',
  'sessionKey',
  'sessionToken',
  'encryptedData',
  ...SECRET_PARAMS.filter((name) => name.includes('_')),
];

const QUERY_PAIR = new RegExp(`\\b(${SECRET_PARAMS.join('|')})=([^&\\s"',;]+)`, 'gi');
const JSON_PAIR = new RegExp(`"(${SECRET_KEYS.join('|')})"(\\s*:\\s*)"[^"]*"`, 'g');
const SECRET_PARAM_SET = new Set(SECRET_PARAMS);

/** Secrets shorter than this are not searched for by value (they would match ordinary words). */
const MIN_SECRET_LENGTH = 6;

export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  return out.replace(QUERY_PAIR, `$1=${REDACTED}`).replace(JSON_PAIR, `"$1"$2"${REDACTED}"`);
}

/** Whether a query parameter of this name carries a credential. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM_SET.has(name.toLowerCase());
}
