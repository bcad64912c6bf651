/**
 * Rollouts and their targets. The scheduler's claim is the one contended operation: every instance claims
 * due targets of the same rollouts, so a claim takes its targets' leases atomically and honours the
 * rollout's in-flight cap across instances (see `claim`).
 */
import { sql, type Kysely, type Selectable, type Updateable, type UpdateObject } from 'kysely';
import type { Page } from '../fleet/model.ts';
import { progressOf, type DomainPolicySpec, type Rollout, type RolloutOrigin, type RolloutProgress, type RolloutStatus, type RolloutTarget, type TargetState, type WavePlan } from '../fleet/rollout-model.ts';
import type { AuditWake, ClaimRequest, RolloutOverview, RolloutPatch, RolloutRepository, TargetUpdate } from '../fleet/rollout-ports.ts';
import type { DialectName } from './database.ts';
import { readOverview } from './rollout-overview.ts';
import { decodeKeyCursor, toPage } from './paging.ts';
import type { RolloutTargetsTable, RolloutsTable, Schema } from './schema.ts';
import { transactor, type Transact } from './transact.ts';

/** Targets per INSERT: 11 parameters each, far below SQLite's 32766 and PostgreSQL's 65535. */
const INSERT_CHUNK = 500;

/** The first key of the two-key PostgreSQL advisory locks that serialise claims, one lock per rollout. */
const CLAIM_LOCK_CLASS = 0x726f6c6c; // "roll"

/** Rollouts some instance should be advancing. */
const ACTIVE_STATUSES: readonly RolloutStatus[] = ['running', 'rolling_back'];

export class SqlRolloutRepository implements RolloutRepository {
  /**
   * @param transact how to run several statements atomically: a new transaction per call by default; a
   *   repository bound to an open transaction passes `joining(db)`.
   */
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly dialect: DialectName,
    private readonly transact: Transact = transactor(db, dialect),
  ) {}

  /** One transaction: the rollout, then its targets in multi-row INSERTs of `INSERT_CHUNK`. */
  async create(rollout: Rollout, targets: RolloutTarget[]): Promise<void> {
    const stray = targets.find((target) => target.rolloutId !== rollout.id);
    if (stray) throw new Error(`target ${stray.appId} belongs to rollout ${stray.rolloutId}, not ${rollout.id}`);
    await this.transact(async (db) => {
      await db.insertInto('rollouts').values(toRolloutRow(rollout)).execute();
      for (let start = 0; start < targets.length; start += INSERT_CHUNK) {
        await db
          .insertInto('rollout_targets')
          .values(targets.slice(start, start + INSERT_CHUNK).map(toTargetRow))
          .execute();
      }
    });
  }

  async get(id: string): Promise<Rollout | undefined> {
    const row = await this.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRollout(row);
  }

  /** Newest first (ids are sortable by creation time). */
  async list(query: { status?: RolloutStatus; limit: number; cursor?: string }): Promise<Page<Rollout>> {
    let select = this.db.selectFrom('rollouts').selectAll().orderBy('id', 'desc').limit(query.limit + 1);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.cursor !== undefined) select = select.where('id', '<', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, toRollout, (row) => [row.id]);
  }

  /** Running or rolling back, oldest first. */
  async active(): Promise<Rollout[]> {
    const rows = await this.db.selectFrom('rollouts').selectAll().where('status', 'in', ACTIVE_STATUSES).orderBy('id').execute();
    return rows.map(toRollout);
  }

  /** One UPDATE; with `ifStatus` its WHERE also compares the status, so a concurrent change wins or loses whole. */
  async update(id: string, patch: RolloutPatch, at: number, ifStatus?: RolloutStatus): Promise<boolean> {
    const set: Updateable<RolloutsTable> = { updated_at: at };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.currentWave !== undefined) set.current_wave = patch.currentWave;
    if (patch.pauseReason !== undefined) set.pause_reason = patch.pauseReason;
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    if (patch.autoRelease !== undefined) set.auto_release = patch.autoRelease ? 1 : 0;
    if (patch.failuresAcknowledged !== undefined) set.failures_acknowledged = patch.failuresAcknowledged;
    const result = await this.db
      .updateTable('rollouts')
      .set(set)
      .where('id', '=', id)
      .$if(ifStatus !== undefined, (qb) => qb.where('status', '=', ifStatus!))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Counts per state, overall and per wave (every state present, 0 when none). Waves come from the plan
   * (with its sizes), in order; an unknown rollout has no targets.
   */
  async progress(id: string): Promise<RolloutProgress> {
    const [rollout, rows] = await Promise.all([
      this.get(id),
      this.db
        .selectFrom('rollout_targets')
        .select((eb) => ['wave', 'state', eb.fn.countAll<number>().as('count')])
        .where('rollout_id', '=', id)
        .groupBy(['wave', 'state'])
        .execute(),
    ]);
    return progressOf(rollout?.waves ?? [], rows.map((row) => ({ wave: row.wave, state: row.state as TargetState, count: Number(row.count) })));
  }

  /** One grouped query for all of `rollouts` (the scheduler's round). */
  overview(rollouts: readonly Rollout[], now: number): Promise<Map<string, RolloutOverview>> {
    return readOverview(this.db, rollouts, now);
  }

  /**
   * Leases up to `limit` due targets (ordered by nextRunAt, then appId) and returns them, never letting the
   * rollout's live leases exceed `maxInFlight`. One UPDATE … WHERE app_id IN (due targets LIMIT room),
   * where room = min(limit, maxInFlight − live leases) is computed inside the statement:
   * - PostgreSQL: in a transaction that first takes the rollout's advisory lock, so claims on one rollout
   *   run one at a time across instances and each counts the leases the previous one committed (READ
   *   COMMITTED: the UPDATE's snapshot is taken after the lock is granted); the due rows are locked
   *   FOR UPDATE SKIP LOCKED, so rows another statement is changing are passed over, not waited for.
   * - SQLite: one statement is one write transaction (an UPDATE takes the write lock before it reads), so
   *   nothing interleaves between the count and the lease, whichever process or store runs it.
   */
  async claim(request: ClaimRequest): Promise<RolloutTarget[]> {
    const wanted = Math.min(request.limit, request.maxInFlight);
    if (request.states.length === 0 || !(wanted > 0)) return [];
    const rows =
      this.dialect === 'postgres'
        ? await this.transact(async (db) => {
            await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_CLASS}::integer, ${lockKey(request.rolloutId)}::integer)`.execute(db);
            return this.claimStatement(db, request, wanted).execute();
          })
        : await this.claimStatement(this.db, request, wanted).execute();
    return rows.map(toTarget).sort((a, b) => a.nextRunAt - b.nextRunAt || (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
  }

  private claimStatement(db: Kysely<Schema>, request: ClaimRequest, wanted: number) {
    const { rolloutId, now } = request;
    const postgres = this.dialect === 'postgres';
    const live = db
      .selectFrom('rollout_targets')
      .select((eb) => eb.fn.countAll<number>().as('live'))
      .where('rollout_id', '=', rolloutId)
      .where('lease_until', '>', now);
    const room = sql<number>`${request.maxInFlight} - (${live})`;
    // A negative LIMIT means "no limit" on SQLite: clamp at 0.
    const take = postgres ? sql<number>`greatest(0, least(${wanted}, ${room}))` : sql<number>`max(0, min(${wanted}, ${room}))`;
    const due = db
      .selectFrom('rollout_targets')
      .select('app_id')
      .where('rollout_id', '=', rolloutId)
      .$if(request.wave !== 0, (qb) => qb.where('wave', '=', request.wave))
      .where('state', 'in', request.states)
      .where('next_run_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('next_run_at')
      .orderBy('app_id')
      .limit(take)
      .$if(postgres, (qb) => qb.forUpdate().skipLocked());
    return db
      .updateTable('rollout_targets')
      .set((eb) => ({ lease_owner: request.owner, lease_until: now + request.leaseMs, state_claims: eb('state_claims', '+', 1) }))
      .where('rollout_id', '=', rolloutId)
      // PostgreSQL: `= any(array(subquery))` makes the LIMIT … FOR UPDATE SKIP LOCKED subquery an InitPlan,
      // run once. As `in (subquery)` the planner may run it again per updated row, each run skipping the
      // rows it already locked and leasing the next ones: the whole rollout, not `take` targets, got leased.
      .$if(postgres, (qb) => qb.where(sql<boolean>`app_id = any(array(${due}))`))
      .$if(!postgres, (qb) => qb.where('app_id', 'in', due))
      .returningAll();
  }

  /** Fenced by the lease: applies `update` and clears the lease only while `owner` holds it. */
  async finishStep(rolloutId: string, appId: string, owner: string, update: TargetUpdate, at: number): Promise<boolean> {
    const set: UpdateObject<Schema, 'rollout_targets'> = { lease_owner: null, lease_until: null, updated_at: at };
    if (update.state !== undefined) {
      set.state = update.state;
      // A new state starts its claims (and its wait for an audit push) afresh.
      set.state_claims = sql<number>`case when state = ${update.state} then state_claims else 0 end`;
      // Entering `auditing`: a passing push that overtook this step is kept and makes the target due now.
      if (update.state !== 'auditing') set.audit_pushed = sql<string | null>`case when state = ${update.state} then audit_pushed else null end`;
    }
    if (update.attempts !== undefined) set.attempts = update.attempts;
    if (update.nextRunAt !== undefined) {
      set.next_run_at =
        update.state === 'auditing'
          ? sql<number>`case when state <> 'auditing' and audit_pushed is not null then cast(${at} as bigint) else cast(${update.nextRunAt} as bigint) end`
          : update.nextRunAt;
    }
    if (update.lastErrorCode !== undefined) set.last_error_code = update.lastErrorCode;
    if (update.lastError !== undefined) set.last_error = update.lastError;
    const result = await this.db
      .updateTable('rollout_targets')
      .set(set)
      .where('rollout_id', '=', rolloutId)
      .where('app_id', '=', appId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Moves the rollout's targets in `from` to `to` and drops their leases (their holders' finishStep then fails). */
  async transition(rolloutId: string, from: readonly TargetState[], to: TargetState, at: number): Promise<number> {
    if (from.length === 0) return 0;
    const result = await this.db
      .updateTable('rollout_targets')
      .set({ state: to, lease_owner: null, lease_until: null, state_claims: 0, audit_pushed: null, updated_at: at })
      .where('rollout_id', '=', rolloutId)
      .where('state', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async unfinishedElsewhere(appIds: readonly string[], touching: { code: boolean; domains: boolean } = { code: true, domains: true }): Promise<{ appId: string; rolloutId: string }[]> {
    const found: { appId: string; rolloutId: string }[] = [];
    if (!touching.code && !touching.domains) return found;
    for (let i = 0; i < appIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('rollout_targets')
        .innerJoin('rollouts', 'rollouts.id', 'rollout_targets.rollout_id')
        .select(['rollout_targets.app_id', 'rollout_targets.rollout_id'])
        .where('rollout_targets.app_id', 'in', appIds.slice(i, i + 500))
        .where('rollout_targets.state', 'in', ['pending', 'uploaded', 'auditing', 'audit_passed'])
        .where('rollouts.status', 'in', ['running', 'paused'])
        .where((eb) =>
          eb.or([
            ...(touching.code ? [eb('rollouts.kind', '=', 'template')] : []),
            ...(touching.domains ? [eb('rollouts.domains_json', 'is not', null)] : []),
          ]),
        )
        .execute();
      for (const row of rows) found.push({ appId: row.app_id, rolloutId: row.rollout_id });
    }
    return found;
  }

  /** Makes `appId`'s targets in `state` due at `at`, in running rollouts only. */
  async wakeRollout(rolloutId: string, at: number): Promise<number> {
    const result = await this.db
      .updateTable('rollout_targets')
      .set({ next_run_at: at })
      .where('rollout_id', '=', rolloutId)
      .where('state', 'in', ['pending', 'uploaded', 'auditing', 'audit_passed'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * One statement for many audit results. A merchant's `audit_pushed` takes the last passed version in
   * `results` that is ours, as if the results had been applied one after the other: a rollout of that
   * version, and the target auditing or its step (which may have submitted) in flight — a pending target
   * nobody has started cannot have been submitted.
   */
  async wakeMany(results: readonly AuditWake[], states: TargetState | readonly TargetState[], at: number): Promise<number> {
    if (results.length === 0) return 0;
    const rows = results.map((result, ord) => sql`(cast(${ord} as integer), cast(${result.appId} as text), cast(${result.passedVersion ?? null} as text))`);
    const stateList = typeof states === 'string' ? [states] : states;
    const result = await sql`
      with woken (ord, app_id, passed) as (values ${sql.join(rows)})
      update rollout_targets set
        next_run_at = ${at},
        audit_pushed = coalesce((
          select w.passed from woken w
          where w.app_id = rollout_targets.app_id and w.passed is not null
            and exists (select 1 from rollouts r where r.id = rollout_targets.rollout_id and r.user_version = w.passed)
            and (rollout_targets.state = 'auditing' or rollout_targets.lease_until > ${at})
          order by w.ord desc limit 1
        ), audit_pushed)
      where app_id in (select app_id from woken)
        and state in (${sql.join(stateList)})
        and rollout_id in (select id from rollouts where status = 'running')`.execute(this.db);
    return Number(result.numAffectedRows ?? 0n);
  }

  /** By appId. */
  async targets(query: { rolloutId: string; state?: TargetState; limit: number; cursor?: string }): Promise<Page<RolloutTarget>> {
    let select = this.db
      .selectFrom('rollout_targets')
      .selectAll()
      .where('rollout_id', '=', query.rolloutId)
      .orderBy('app_id')
      .limit(query.limit + 1);
    if (query.state !== undefined) select = select.where('state', '=', query.state);
    if (query.cursor !== undefined) select = select.where('app_id', '>', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, toTarget, (row) => [row.app_id]);
  }

  /** One GROUP BY over the (status, id) index. */
  async countByStatus(): Promise<Partial<Record<RolloutStatus, number>>> {
    const rows = await this.db.selectFrom('rollouts').select((eb) => ['status', eb.fn.countAll<number | string>().as('count')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  /** One GROUP BY: the rollouts in `statuses` (status index), joined to their targets by primary key. */
  async countTargetsByState(statuses: readonly RolloutStatus[]): Promise<Partial<Record<TargetState, number>>> {
    if (statuses.length === 0) return {};
    const rows = await this.db
      .selectFrom('rollouts as r')
      .innerJoin('rollout_targets as t', 't.rollout_id', 'r.id')
      .select((eb) => ['t.state', eb.fn.countAll<number | string>().as('count')])
      .where('r.status', 'in', statuses)
      .groupBy('t.state')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
  }
}

/** A rollout id's advisory-lock key: FNV-1a, as a signed 32-bit integer. */
function lockKey(rolloutId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(rolloutId, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

function toRolloutRow(rollout: Rollout): RolloutsTable {
  return {
    id: rollout.id,
    kind: rollout.kind,
    // NOT NULL since 0002: a domain policy has no template, so placeholders.
    template_id: rollout.templateId ?? 0,
    user_version: rollout.userVersion ?? '',
    user_desc: rollout.userDesc ?? '',
    domains_json: rollout.domains === null ? null : JSON.stringify(rollout.domains),
    status: rollout.status,
    auto_release: rollout.autoRelease ? 1 : 0,
    failures_acknowledged: rollout.failuresAcknowledged,
    max_failure_rate: rollout.maxFailureRate,
    concurrency: rollout.concurrency,
    waves_json: JSON.stringify(rollout.waves),
    current_wave: rollout.currentWave,
    pause_reason: rollout.pauseReason,
    created_by: rollout.createdBy,
    created_at: rollout.createdAt,
    updated_at: rollout.updatedAt,
    finished_at: rollout.finishedAt,
    origin: rollout.origin,
    promote_to: rollout.promoteTo,
    ext_defaults_json: rollout.extDefaults === null ? null : JSON.stringify(rollout.extDefaults),
  };
}

function toRollout(row: Selectable<RolloutsTable>): Rollout {
  const domains = row.domains_json === null ? null : (JSON.parse(row.domains_json) as DomainPolicySpec);
  const common = {
    id: row.id,
    status: row.status as RolloutStatus,
    autoRelease: row.auto_release !== 0,
    failuresAcknowledged: Number(row.failures_acknowledged),
    maxFailureRate: Number(row.max_failure_rate),
    concurrency: row.concurrency,
    waves: JSON.parse(row.waves_json) as WavePlan[],
    currentWave: row.current_wave,
    pauseReason: row.pause_reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    origin: row.origin as RolloutOrigin,
    promoteTo: row.promote_to,
    extDefaults: row.ext_defaults_json === null ? null : (JSON.parse(row.ext_defaults_json) as Record<string, unknown>),
  };
  if (row.kind === 'domains' && domains !== null) return { ...common, kind: 'domains', templateId: null, userVersion: null, userDesc: null, domains };
  return { ...common, kind: 'template', templateId: Number(row.template_id), userVersion: row.user_version, userDesc: row.user_desc, domains };
}

function toTargetRow(target: RolloutTarget): RolloutTargetsTable {
  return {
    rollout_id: target.rolloutId,
    app_id: target.appId,
    wave: target.wave,
    state: target.state,
    attempts: target.attempts,
    next_run_at: target.nextRunAt,
    lease_owner: target.leaseOwner,
    lease_until: target.leaseUntil,
    last_error_code: target.lastErrorCode,
    last_error: target.lastError,
    updated_at: target.updatedAt,
    state_claims: target.stateClaims,
    audit_pushed: target.auditPushed,
  };
}

function toTarget(row: Selectable<RolloutTargetsTable>): RolloutTarget {
  return {
    rolloutId: row.rollout_id,
    appId: row.app_id,
    wave: row.wave,
    state: row.state as TargetState,
    attempts: row.attempts,
    nextRunAt: row.next_run_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    updatedAt: row.updated_at,
    stateClaims: Number(row.state_claims),
    auditPushed: row.audit_pushed,
  };
}
