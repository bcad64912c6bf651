/** Release channels, their promotions, and the onboarding policy (one row). */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Channel, ChannelInput, DomainPolicySpec, OnboardingPolicy } from '../fleet/channel-model.ts';
import type { AuditDraft, ChannelRepository, Promotion } from '../fleet/channel-ports.ts';
import { SqlAuditLogRepository } from './audit-log-repository.ts';
import type { ChannelsTable, Schema } from './schema.ts';
import type { Transact } from './transact.ts';

const POLICY_ID = 'default';

export class SqlChannelRepository implements ChannelRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly transact: Transact,
  ) {}

  async list(): Promise<Channel[]> {
    return (await this.db.selectFrom('channels').selectAll().orderBy('name').execute()).map(toChannel);
  }

  async get(name: string): Promise<Channel | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toChannel(row);
  }

  async put(name: string, input: ChannelInput, baseVersion: number | undefined, updatedBy: string | null, at: number): Promise<Channel | undefined> {
    const values = { ...toColumns(input), updated_at: at, updated_by: updatedBy };
    if (baseVersion === undefined) {
      const row = await this.db
        .insertInto('channels')
        .values({ name, ...values, version: 1, created_at: at })
        .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, version: sql<number>`channels.version + 1` }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toChannel(row);
    }
    if (baseVersion === 0) {
      const row = await this.db
        .insertInto('channels')
        .values({ name, ...values, version: 1, created_at: at })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row && toChannel(row);
    }
    const row = await this.db
      .updateTable('channels')
      .set({ ...values, version: baseVersion + 1 })
      .where('name', '=', name)
      .where('version', '=', baseVersion)
      .returningAll()
      .executeTakeFirst();
    return row && toChannel(row);
  }

  promote(promotion: Promotion, at: number, audit: (before: Channel | undefined, after: Channel) => AuditDraft): Promise<Channel | undefined> {
    return this.transact(async (db) => {
      const recorded = await db
        .insertInto('channel_promotions')
        .values({ rollout_id: promotion.rolloutId, channel: promotion.channel, promoted_at: at })
        .onConflict((oc) => oc.column('rollout_id').doNothing())
        .returning('rollout_id')
        .executeTakeFirst();
      if (!recorded) return undefined;
      const beforeRow = await db.selectFrom('channels').selectAll().where('name', '=', promotion.channel).executeTakeFirst();
      const before = beforeRow && toChannel(beforeRow);
      const moved = { template_id: promotion.templateId, user_version: promotion.userVersion, user_desc: promotion.userDesc, updated_at: at, updated_by: `rollout:${promotion.rolloutId}` };
      const row = await db
        .insertInto('channels')
        .values({ name: promotion.channel, ...moved, ext_defaults_json: null, domain_policy_json: null, auto_release: 1, version: 1, created_at: at })
        .onConflict((oc) => oc.column('name').doUpdateSet({ ...moved, version: sql<number>`channels.version + 1` }))
        .returningAll()
        .executeTakeFirstOrThrow();
      const after = toChannel(row);
      await new SqlAuditLogRepository(db).append(audit(before, after));
      return after;
    });
  }

  async pendingPromotions(limit: number): Promise<Promotion[]> {
    const rows = await this.db
      .selectFrom('rollouts')
      .leftJoin('channel_promotions', 'channel_promotions.rollout_id', 'rollouts.id')
      .select(['rollouts.id', 'rollouts.promote_to', 'rollouts.template_id', 'rollouts.user_version', 'rollouts.user_desc'])
      .where('rollouts.status', '=', 'completed')
      .where('rollouts.promote_to', 'is not', null)
      .where('channel_promotions.rollout_id', 'is', null)
      .orderBy('rollouts.id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      rolloutId: row.id,
      channel: row.promote_to!,
      templateId: Number(row.template_id),
      userVersion: row.user_version,
      userDesc: row.user_desc,
    }));
  }

  async getPolicy(): Promise<OnboardingPolicy | undefined> {
    const row = await this.db.selectFrom('onboarding_policy').selectAll().where('id', '=', POLICY_ID).executeTakeFirst();
    return row && { enabled: row.enabled !== 0, channel: row.channel, autoRelease: row.auto_release === null ? null : row.auto_release !== 0 };
  }

  async putPolicy(policy: OnboardingPolicy, updatedBy: string | null, at: number): Promise<void> {
    const values = {
      enabled: policy.enabled ? 1 : 0,
      channel: policy.channel,
      auto_release: policy.autoRelease === null ? null : policy.autoRelease ? 1 : 0,
      updated_at: at,
      updated_by: updatedBy,
    };
    await this.db
      .insertInto('onboarding_policy')
      .values({ id: POLICY_ID, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }
}

function toColumns(input: ChannelInput) {
  return {
    template_id: input.templateId,
    user_version: input.userVersion,
    user_desc: input.userDesc,
    ext_defaults_json: input.extDefaults === null ? null : JSON.stringify(input.extDefaults),
    domain_policy_json: input.domainPolicy === null ? null : JSON.stringify(input.domainPolicy),
    auto_release: input.autoRelease ? 1 : 0,
  };
}

function toChannel(row: Selectable<ChannelsTable>): Channel {
  return {
    name: row.name,
    templateId: Number(row.template_id),
    userVersion: row.user_version,
    userDesc: row.user_desc,
    extDefaults: row.ext_defaults_json === null ? null : (JSON.parse(row.ext_defaults_json) as Record<string, unknown>),
    domainPolicy: row.domain_policy_json === null ? null : (JSON.parse(row.domain_policy_json) as DomainPolicySpec),
    autoRelease: row.auto_release !== 0,
    version: row.version,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
