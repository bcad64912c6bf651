import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { LastAudit, Page, PushEventRecord, PushOutcome } from '../fleet/model.ts';
import type { PushEventRepository, PushRecording } from '../fleet/ports.ts';
import { SqlCapabilityRepository } from './capability-repository.ts';
import type { DialectName } from './database.ts';
import { decodeTimeKeyCursor, parseJsonObject, toPage } from './paging.ts';
import type { PushEventsTable, Schema } from './schema.ts';
import type { Transact } from './transact.ts';

export class SqlPushEventRepository implements PushEventRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly dialect: DialectName,
    private readonly transact: Transact,
  ) {}

  /**
   * A resend is detected by ON CONFLICT DO NOTHING rather than by catching a unique violation: a failed
   * statement would abort the enclosing PostgreSQL transaction, and with it the push's effect.
   */
  async insert(event: PushEventRecord): Promise<boolean> {
    return insertEvent(this.db, event);
  }

  /**
   * PostgreSQL: ONE statement for the whole batch, no BEGIN/COMMIT round trips: the pushes are a VALUES
   * list, the insert a data-modifying CTE (`on conflict do nothing returning`), and each effect applies
   * only for the rows it returned — so a resend, even one racing the first delivery (it waits on the msgId's
   * unique index until that commits), changes nothing. SQLite: the inserts and effects in one transaction
   * (no server hop, so statements are cheap; the commit is what counts).
   */
  async recordMany(pushes: readonly PushRecording[]): Promise<boolean[]> {
    // A msgId twice in one batch: the first is the delivery, the later ones resends.
    const first = new Map<string, number>();
    pushes.forEach((push, i) => {
      if (!first.has(push.event.msgId)) first.set(push.event.msgId, i);
    });
    const unique = pushes.filter((push, i) => first.get(push.event.msgId) === i);
    if (unique.length === 0) return [];
    const stored = this.dialect === 'postgres' ? await this.recordManyInOneStatement(unique) : await this.recordManyInOneTransaction(unique);
    return pushes.map((push, i) => first.get(push.event.msgId) === i && stored.has(push.event.msgId));
  }

  private recordManyInOneTransaction(pushes: readonly PushRecording[]): Promise<Set<string>> {
    return this.transact(async (db) => {
      const stored = new Set<string>();
      for (const { event, effect } of pushes) {
        if (!(await insertEvent(db, event))) continue;
        stored.add(event.msgId);
        if (effect?.type === 'lastAudit') await setLastAudit(db, effect.appId, effect.audit, effect.at);
        else if (effect?.type === 'capability') await new SqlCapabilityRepository(db).upsert(effect.record);
      }
      return stored;
    });
  }

  private async recordManyInOneStatement(pushes: readonly PushRecording[]): Promise<Set<string>> {
    // Keys compare in the "C" collation, like the key columns they are matched against.
    const rows = pushes.map(({ event, effect }, ord) => {
      const audit = effect?.type === 'lastAudit' ? effect : undefined;
      const capability = effect?.type === 'capability' ? effect.record : undefined;
      return sql`(${ord}::int, ${event.msgId}::text collate "C", ${event.channel}::text, ${event.eventType}::text, ${event.appId}::text,
        ${event.receivedAt}::bigint, ${event.outcome}::text, ${JSON.stringify(event.summary)}::text, ${event.error}::text,
        ${effect?.type ?? null}::text, ${audit?.appId ?? capability?.appId ?? null}::text collate "C", ${audit ? JSON.stringify(audit.audit) : null}::text,
        ${audit?.at ?? capability?.updatedAt ?? null}::bigint, ${capability?.capability ?? null}::text collate "C", ${capability?.status ?? null}::text,
        ${capability?.reason ?? null}::text)`;
    });
    // Of several effects on one row, the last given wins (as if applied one after the other); DISTINCT ON also
    // keeps an upsert from touching one row twice, which PostgreSQL refuses.
    const { rows: stored } = await sql<{ msg_id: string }>`
      with incoming (ord, msg_id, channel, event_type, app_id, received_at, outcome, summary_json, error,
                     effect, effect_app_id, audit_json, effect_at, capability, status, reason) as (values ${sql.join(rows)}),
      pushed as (
        insert into push_events (msg_id, channel, event_type, app_id, received_at, outcome, summary_json, error)
        select msg_id, channel, event_type, app_id, received_at, outcome, summary_json, error from incoming order by ord
        on conflict (msg_id) do nothing
        returning msg_id
      ),
      applied as (select i.* from incoming i join pushed p on p.msg_id = i.msg_id),
      audits as (
        update merchants m set last_audit_json = a.audit_json, updated_at = a.effect_at
        from (select distinct on (effect_app_id) effect_app_id, audit_json, effect_at from applied where effect = 'lastAudit' order by effect_app_id, ord desc) a
        where m.app_id = a.effect_app_id
        returning m.app_id
      ),
      capabilities as (
        insert into merchant_capabilities (app_id, capability, status, reason, updated_at)
        select distinct on (effect_app_id, capability) effect_app_id, capability, status, reason, effect_at
        from applied where effect = 'capability' order by effect_app_id, capability, ord desc
        on conflict (app_id, capability) do update set status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
        returning app_id
      )
      select msg_id from pushed`.execute(this.db);
    return new Set(stored.map((row) => row.msg_id));
  }

  async exists(msgId: string): Promise<boolean> {
    const row = await this.db.selectFrom('push_events').select('msg_id').where('msg_id', '=', msgId).executeTakeFirst();
    return row !== undefined;
  }

  /** Newest first (by receipt time, then msgId). */
  async list(query: { limit: number; cursor?: string; eventType?: string }): Promise<Page<PushEventRecord>> {
    let select = this.db
      .selectFrom('push_events')
      .selectAll()
      .orderBy('received_at', 'desc')
      .orderBy('msg_id', 'desc')
      .limit(query.limit + 1);
    if (query.eventType !== undefined) select = select.where('event_type', '=', query.eventType);
    if (query.cursor !== undefined) {
      const [at, msgId] = decodeTimeKeyCursor(query.cursor);
      select = select.where((eb) => eb.or([eb('received_at', '<', at), eb.and([eb('received_at', '=', at), eb('msg_id', '<', msgId)])]));
    }
    return toPage(await select.execute(), query.limit, toRecord, (row) => [row.received_at, row.msg_id]);
  }
}

function eventRow(event: PushEventRecord): Insertable<PushEventsTable> {
  return {
    msg_id: event.msgId,
    channel: event.channel,
    event_type: event.eventType,
    app_id: event.appId,
    received_at: event.receivedAt,
    outcome: event.outcome,
    summary_json: JSON.stringify(event.summary),
    error: event.error,
  };
}

async function insertEvent(db: Kysely<Schema>, event: PushEventRecord): Promise<boolean> {
  const result = await db.insertInto('push_events').values(eventRow(event)).onConflict((oc) => oc.column('msg_id').doNothing()).executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

async function setLastAudit(db: Kysely<Schema>, appId: string, audit: LastAudit, at: number): Promise<void> {
  await db.updateTable('merchants').set({ last_audit_json: JSON.stringify(audit), updated_at: at }).where('app_id', '=', appId).execute();
}

function toRecord(row: Selectable<PushEventsTable>): PushEventRecord {
  return {
    msgId: row.msg_id,
    channel: row.channel as PushEventRecord['channel'],
    eventType: row.event_type,
    appId: row.app_id,
    receivedAt: row.received_at,
    outcome: row.outcome as PushOutcome,
    summary: parseJsonObject(row.summary_json),
    error: row.error,
  };
}
