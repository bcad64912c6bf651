import type { Kysely, Selectable } from 'kysely';
import type { Page, PushEventRecord, PushOutcome } from '../fleet/model.ts';
import type { PushEventRepository } from '../fleet/ports.ts';
import { decodeTimeKeyCursor, parseJsonObject, toPage } from './paging.ts';
import type { PushEventsTable, Schema } from './schema.ts';

export class SqlPushEventRepository implements PushEventRepository {
  constructor(private readonly db: Kysely<Schema>) {}

  /**
   * A resend is detected by ON CONFLICT DO NOTHING rather than by catching a unique violation: a failed
   * statement would abort the enclosing PostgreSQL transaction, and with it the push's effect.
   */
  async insert(event: PushEventRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('push_events')
      .values({
        msg_id: event.msgId,
        channel: event.channel,
        event_type: event.eventType,
        app_id: event.appId,
        received_at: event.receivedAt,
        outcome: event.outcome,
        summary_json: JSON.stringify(event.summary),
        error: event.error,
      })
      .onConflict((oc) => oc.column('msg_id').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
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
