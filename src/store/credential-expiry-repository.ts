import type { Kysely } from 'kysely';
import type { CredentialExpiryRepository } from '../fleet/ports.ts';
import { credentialKeys } from '../kuaishou/tokens/token-store.ts';
import type { Schema } from './schema.ts';

/**
 * When the component ticket and component access token that `SqlTokenStore` keeps expire. Reads the
 * `key` and `expires_at` columns only: the sealed values are never selected, so nothing secret can reach
 * a metric through here.
 */
export class SqlCredentialExpiryRepository implements CredentialExpiryRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly componentAppId: string | undefined,
  ) {}

  async componentExpiries(): Promise<{ ticket: number | undefined; componentToken: number | undefined }> {
    if (this.componentAppId === undefined) throw new Error('the store was opened without componentAppId: it cannot name the component\'s credentials');
    const ticketKey = credentialKeys.ticket(this.componentAppId);
    const tokenKey = credentialKeys.componentToken(this.componentAppId);
    const rows = await this.db.selectFrom('credentials').select(['key', 'expires_at']).where('key', 'in', [ticketKey, tokenKey]).execute();
    const expiry = (key: string): number | undefined => {
      const row = rows.find((r) => r.key === key);
      return row === undefined ? undefined : Number(row.expires_at);
    };
    return { ticket: expiry(ticketKey), componentToken: expiry(tokenKey) };
  }
}
