import type { Insertable, Kysely, Selectable } from 'kysely';
import type { LastAudit, Page, PushEventRecord, PushOutcome } from '../fleet/model.ts';
import type { PushEffect, PushEventRepository } from '../fleet/ports.ts';
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
   * PostgreSQL: ONE statement (no BEGIN/COMMIT round trips): the insert is a data-modifying CTE and the
   * effect runs only when it returned a row, so a resend — even one racing the first delivery, which waits
   * on the msgId's unique index until that commits — changes nothing. SQLite: the insert and the effect in
   * one transaction (no server hop, so statements are cheap; the commit is what counts).
   */
  async record(event: PushEventRecord, effect?: PushEffect): Promise<boolean> {
    if (effect === undefined) return insertEvent(this.db, event);
    if (this.dialect === 'postgres') return this.recordInOneStatement(event, effect);
    return this.transact(async (db) => {
      if (!(await insertEvent(db, event))) return false;
      if (effect.type === 'lastAudit') await setLastAudit(db, effect.appId, effect.audit, effect.at);
      else await new SqlCapabilityRepository(db).upsert(effect.record);
      return true;
    });
  }

  private async recordInOneStatement(event: PushEventRecord, effect: PushEffect): Promise<boolean> {
    const pushed = this.db.with('pushed', (db) =>
      db.insertInto('push_events').values(eventRow(event)).onConflict((oc) => oc.column('msg_id').doNothing()).returning('msg_id'),
    );
    const withEffect =
      effect.type === 'lastAudit'
        ? pushed.with('effect', (db) =>
            db
              .updateTable('merchants')
              .set({ last_audit_json: JSON.stringify(effect.audit), updated_at: effect.at })
              .where('app_id', '=', effect.appId)
              .where((eb) => eb.exists(eb.selectFrom('pushed').select('msg_id')))
              .returning('app_id'),
          )
        : pushed.with('effect', (db) =>
            db
              .insertInto('merchant_capabilities')
              .columns(['app_id', 'capability', 'status', 'reason', 'updated_at'])
              .expression((eb) =>
                eb
                  .selectFrom('pushed')
                  .select([
                    eb.val(effect.record.appId).as('app_id'),
                    eb.val(effect.record.capability).as('capability'),
                    eb.val(effect.record.status).as('status'),
                    eb.val(effect.record.reason).as('reason'),
                    eb.val(effect.record.updatedAt).as('updated_at'),
                  ]),
              )
              .onConflict((oc) =>
                oc.columns(['app_id', 'capability']).doUpdateSet((eb) => ({
                  status: eb.ref('excluded.status'),
                  reason: eb.ref('excluded.reason'),
                  updated_at: eb.ref('excluded.updated_at'),
                })),
              )
              .returning('app_id'),
          );
    const rows = await withEffect.selectFrom('pushed').select('msg_id').execute();
    return rows.length > 0;
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
