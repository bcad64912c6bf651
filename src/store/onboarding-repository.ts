/** Per-merchant onboarding records: compare-and-set writes, step times, the sweep, the stuck list and the counts. */
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { OnboardingBlock, OnboardingRecord, OnboardingRowStatus, OnboardingTrigger, StepTimes } from '../fleet/channel-model.ts';
import type { CountedOnboardingStatus, OnboardingCounts, OnboardingRepository } from '../fleet/channel-ports.ts';
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
    let select = this.withTargets()
      .select('o.app_id')
      .where(isStuck(query.since))
      .orderBy('o.app_id')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) select = select.where('o.app_id', '>', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, (row) => row.app_id, (row) => [row.app_id]);
  }

  /** One scan of the rows with their targets, grouped by the derived status (in a derived table: portable). */
  async countByStatus(since: number): Promise<OnboardingCounts> {
    const rows = await this.db
      .selectFrom(
        this.withTargets()
          .select([shownStatus().as('status'), sql<number>`case when ${isStuck(since)} then 1 else 0 end`.as('stuck')])
          .as('s'),
      )
      .select((eb) => ['s.status', eb.fn.countAll<number | string>().as('count'), eb.fn.sum<number | string>('s.stuck').as('stuck')])
      .groupBy('s.status')
      .execute();
    const byStatus: OnboardingCounts['byStatus'] = {};
    let stuck = 0;
    for (const row of rows) {
      byStatus[row.status] = Number(row.count);
      stuck += Number(row.stuck);
    }
    return { byStatus, stuck };
  }

  /** Each onboarding with its rollout target and rollout (both absent until it started one). */
  private withTargets() {
    return this.db
      .selectFrom('onboardings as o')
      .leftJoin('rollout_targets as t', (join) => join.onRef('t.rollout_id', '=', 'o.rollout_id').onRef('t.app_id', '=', 'o.app_id'))
      .leftJoin('rollouts as r', 'r.id', 'o.rollout_id');
  }
}

/**
 * Stuck (the merchants list's `onboarding=stuck`): blocked; failed (the target failed, was rejected,
 * skipped or rolled back, or the rollout was aborted); or starting / in progress since before `since`.
 * Over `withTargets()`: one definition for the list and the count.
 */
function isStuck(since: number): RawBuilder<boolean> {
  return sql<boolean>`(o.status = 'blocked'
    or (o.status = 'starting' and o.updated_at < ${since})
    or (o.status = 'started' and (t.state in (${sql.join(FAILED_TARGET)}) or r.status = 'aborted' or (t.state in (${sql.join(ADVANCING_TARGET)}) and o.updated_at < ${since}))))`;
}

/** The status `onboardingView` shows for a row with the policy on (onboarding-status.ts), in SQL over `withTargets()`. */
function shownStatus(): RawBuilder<CountedOnboardingStatus> {
  return sql<CountedOnboardingStatus>`case
    when o.status = 'blocked' then 'blocked'
    when o.status = 'starting' then 'starting'
    when o.status = 'up_to_date' then 'live'
    when t.state is null or r.id is null then 'in_progress'
    when t.state = 'released' then 'live'
    when t.state in (${sql.join(FAILED_TARGET)}) or r.status = 'aborted' then 'failed'
    else 'in_progress' end`;
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
