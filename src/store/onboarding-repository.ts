/** Per-merchant onboarding records: compare-and-set writes, step times, the sweep and the stuck list. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { OnboardingBlock, OnboardingRecord, OnboardingRowStatus, OnboardingTrigger, StepTimes } from '../fleet/channel-model.ts';
import type { OnboardingRepository } from '../fleet/channel-ports.ts';
import type { Page } from '../fleet/model.ts';
import { decodeKeyCursor, toPage } from './paging.ts';
import type { OnboardingsTable, Schema } from './schema.ts';

const STEP_COLUMN = { domains: 'domains_at', uploaded: 'uploaded_at', auditing: 'auditing_at', live: 'live_at' } as const;
const FAILED_TARGET = ['failed', 'rejected', 'skipped', 'rolled_back'];
const ADVANCING_TARGET = ['pending', 'uploaded', 'auditing', 'audit_passed'];

export class SqlOnboardingRepository implements OnboardingRepository {
  constructor(private readonly db: Kysely<Schema>) {}

  async get(appId: string): Promise<OnboardingRecord | undefined> {
    const row = await this.db.selectFrom('onboardings').selectAll().where('app_id', '=', appId).executeTakeFirst();
    return row && toRecord(row);
  }

  async save(record: Omit<OnboardingRecord, 'version' | 'createdAt' | 'steps'>, expectedVersion: number | null, at: number): Promise<OnboardingRecord | undefined> {
    const values = {
      status: record.status,
      channel: record.channel,
      template_id: record.templateId,
      user_version: record.userVersion,
      rollout_id: record.rolloutId,
      reason_code: record.reasonCode,
      reason: record.reason,
      missing_permissions_json: JSON.stringify(record.missingPermissions),
      trigger: record.trigger,
      updated_at: at,
    };
    if (expectedVersion === null) {
      const row = await this.db
        .insertInto('onboardings')
        .values({ app_id: record.appId, ...values, domains_at: null, uploaded_at: null, auditing_at: null, live_at: null, version: 1, created_at: at })
        .onConflict((oc) => oc.column('app_id').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    }
    // Step times belong to one rollout: another rollout starts a new timeline.
    const sameRollout = record.rolloutId === null ? sql<boolean>`false` : sql<boolean>`rollout_id = ${record.rolloutId}`;
    const keep = (column: 'domains_at' | 'uploaded_at' | 'auditing_at' | 'live_at') => sql<number | null>`case when ${sameRollout} then ${sql.ref(column)} else null end`;
    const row = await this.db
      .updateTable('onboardings')
      .set({
        ...values,
        domains_at: keep('domains_at'),
        uploaded_at: keep('uploaded_at'),
        auditing_at: keep('auditing_at'),
        live_at: keep('live_at'),
        version: expectedVersion + 1,
      })
      .where('app_id', '=', record.appId)
      .where('version', '=', expectedVersion)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async recordStep(appId: string, rolloutId: string, step: keyof StepTimes, at: number): Promise<void> {
    const column = STEP_COLUMN[step];
    await this.db
      .updateTable('onboardings')
      .set({ [column]: sql<number>`coalesce(${sql.ref(column)}, ${at})` })
      .where('app_id', '=', appId)
      .where('rollout_id', '=', rolloutId)
      .execute();
  }

  async sweepCandidates(staleBefore: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('onboardings')
      .select('app_id')
      .where((eb) => eb.or([eb('status', '=', 'blocked'), eb.and([eb('status', '=', 'starting'), eb('updated_at', '<', staleBefore)])]))
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return rows.map((row) => row.app_id);
  }

  async unconsidered(query: { channel: string; authorizedSince: number; authorizedBefore: number; limit: number }): Promise<string[]> {
    const rows = await this.db
      .selectFrom('merchants as m')
      .innerJoin('channels as c', (join) => join.on('c.name', '=', query.channel))
      .select('m.app_id')
      .where('m.status', '=', 'authorized')
      .where('m.authorized_at', '>=', query.authorizedSince)
      .where('m.authorized_at', '<', query.authorizedBefore)
      .where((eb) => eb('m.authorized_at', '>=', eb.fn.coalesce('c.created_at', eb.lit(0))))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('onboardings as o').select('o.app_id').whereRef('o.app_id', '=', 'm.app_id'))))
      .orderBy('m.authorized_at')
      .limit(query.limit)
      .execute();
    return rows.map((row) => row.app_id);
  }

  async stuck(query: { since: number; limit: number; cursor?: string }): Promise<Page<string>> {
    let select = this.db
      .selectFrom('onboardings as o')
      .leftJoin('rollout_targets as t', (join) => join.onRef('t.rollout_id', '=', 'o.rollout_id').onRef('t.app_id', '=', 'o.app_id'))
      .leftJoin('rollouts as r', 'r.id', 'o.rollout_id')
      .select('o.app_id')
      .where((eb) =>
        eb.or([
          eb('o.status', '=', 'blocked'),
          eb.and([eb('o.status', '=', 'starting'), eb('o.updated_at', '<', query.since)]),
          eb.and([
            eb('o.status', '=', 'started'),
            eb.or([
              eb('t.state', 'in', FAILED_TARGET),
              eb('r.status', '=', 'aborted'),
              eb.and([eb('t.state', 'in', ADVANCING_TARGET), eb('o.updated_at', '<', query.since)]),
            ]),
          ]),
        ]),
      )
      .orderBy('o.app_id')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) select = select.where('o.app_id', '>', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, (row) => row.app_id, (row) => [row.app_id]);
  }
}

function toRecord(row: Selectable<OnboardingsTable>): OnboardingRecord {
  const steps: StepTimes = {};
  for (const [step, column] of Object.entries(STEP_COLUMN) as [keyof StepTimes, (typeof STEP_COLUMN)[keyof StepTimes]][]) {
    const at = row[column];
    if (at !== null) steps[step] = Number(at);
  }
  return {
    appId: row.app_id,
    status: row.status as OnboardingRowStatus,
    channel: row.channel,
    templateId: Number(row.template_id),
    userVersion: row.user_version,
    rolloutId: row.rollout_id,
    reasonCode: row.reason_code as OnboardingBlock | null,
    reason: row.reason,
    missingPermissions: JSON.parse(row.missing_permissions_json) as number[],
    trigger: row.trigger as OnboardingTrigger,
    steps,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
