import type { Kysely } from 'kysely';
import type { MerchantTokenRepository } from '../fleet/ports.ts';
import { credentialKeys } from '../kuaishou/tokens/token-store.ts';
import type { Schema } from './schema.ts';

/**
 * A merchant's tokens where `SqlTokenStore` keeps them (the client's authorizer credential), so a
 * revocation can delete them in the same transaction that records it.
 */
export class SqlMerchantTokenRepository implements MerchantTokenRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly componentAppId: string | undefined,
  ) {}

  async forget(appId: string): Promise<void> {
    if (this.componentAppId === undefined) throw new Error('the store was opened without componentAppId: it cannot name a merchant\'s tokens');
    await this.db.deleteFrom('credentials').where('key', '=', credentialKeys.authorizer(this.componentAppId, appId)).execute();
  }
}
