/**
 * API keys: `ksk_<id>_<secret>`, shown once at creation and stored as a sha256 hash. The id lets a
 * request find its record without scanning; the comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, Role } from '../fleet/model.ts';
import type { ApiKeyRepository } from '../fleet/ports.ts';

/** The id under which a key given in KS_ISV_ADMIN_KEY (any format) is stored: derived from the key. */
export function envKeyId(key: string): string {
  return `env-${hashKey(key).slice(0, 12)}`;
}

const KEY_PATTERN = /^ksk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{32,})$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(name: string, role: Role, now = Date.now()): { key: string; record: ApiKeyRecord } {
  const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
  const key = `ksk_${id}_${randomBytes(24).toString('base64url')}`;
  return { key, record: { id, name, role, hash: hashKey(key), createdAt: now, lastUsedAt: null, revokedAt: null } };
}

/** The record a presented key belongs to, if it is valid and not revoked. */
export async function verifyApiKey(keys: ApiKeyRepository, presented: string): Promise<ApiKeyRecord | undefined> {
  if (presented.length > 512) return undefined;
  const id = KEY_PATTERN.exec(presented)?.[1] ?? envKeyId(presented);
  const record = await keys.get(id);
  if (!record || record.revokedAt !== null) return undefined;
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(hashKey(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? record : undefined;
}

/**
 * Makes sure an admin can sign in: registers KS_ISV_ADMIN_KEY when given, else creates a key when none
 * exists. Returns the new key's text only when it was generated here (to print once).
 */
export async function bootstrapAdminKey(keys: ApiKeyRepository, configured: string | undefined): Promise<string | undefined> {
  if (configured) {
    const id = envKeyId(configured);
    const now = Date.now();
    // A changed KS_ISV_ADMIN_KEY retires the previous one.
    for (const key of await keys.list()) if (key.id.startsWith('env-') && key.id !== id && key.revokedAt === null) await keys.revoke(key.id, now);
    if (!(await keys.get(id))) {
      await keys.insert({ id, name: 'KS_ISV_ADMIN_KEY', role: 'admin', hash: hashKey(configured), createdAt: now, lastUsedAt: null, revokedAt: null });
    }
    return undefined;
  }
  if ((await keys.count()) > 0) return undefined;
  const { key, record } = newApiKey('bootstrap admin', 'admin');
  await keys.insert(record);
  return key;
}
