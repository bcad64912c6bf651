import type { Kysely, Selectable } from 'kysely';
import type { CapabilityName, CapabilityRecord, CapabilityStatusName } from '../fleet/model.ts';
import type { CapabilityRepository } from '../fleet/ports.ts';
import type { MerchantCapabilitiesTable, Schema } from './schema.ts';

export class SqlCapabilityRepository implements CapabilityRepository {
  constructor(private readonly db: Kysely<Schema>) {}

  async upsert(record: CapabilityRecord): Promise<void> {
    await this.db
      .insertInto('merchant_capabilities')
      .values({ app_id: record.appId, capability: record.capability, status: record.status, reason: record.reason, updated_at: record.updatedAt })
      .onConflict((oc) =>
        oc.columns(['app_id', 'capability']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          reason: eb.ref('excluded.reason'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async list(appId: string): Promise<CapabilityRecord[]> {
    const rows = await this.db.selectFrom('merchant_capabilities').selectAll().where('app_id', '=', appId).orderBy('capability').execute();
    return rows.map(toRecord);
  }

  async get(appId: string, capability: CapabilityName): Promise<CapabilityRecord | undefined> {
    const row = await this.db
      .selectFrom('merchant_capabilities')
      .selectAll()
      .where('app_id', '=', appId)
      .where('capability', '=', capability)
      .executeTakeFirst();
    return row && toRecord(row);
  }
}

function toRecord(row: Selectable<MerchantCapabilitiesTable>): CapabilityRecord {
  return {
    appId: row.app_id,
    capability: row.capability as CapabilityName,
    status: row.status as CapabilityStatusName,
    reason: row.reason,
    updatedAt: row.updated_at,
  };
}
