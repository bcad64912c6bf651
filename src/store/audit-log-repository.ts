import type { Kysely, Selectable } from 'kysely';
import type { AuditLogEntry, Page } from '../fleet/model.ts';
import type { AuditLogQuery, AuditLogRepository } from '../fleet/ports.ts';
import { decodeKeyCursor, parseJsonObject, toPage } from './paging.ts';
import type { AuditLogTable, Schema } from './schema.ts';
import { sortableId } from './sortable-id.ts';

export class SqlAuditLogRepository implements AuditLogRepository {
  constructor(private readonly db: Kysely<Schema>) {}

  async append(entry: Omit<AuditLogEntry, 'id'>): Promise<AuditLogEntry> {
    const stored: AuditLogEntry = { id: sortableId(entry.at), ...entry };
    await this.db
      .insertInto('audit_log')
      .values({
        id: stored.id,
        at: stored.at,
        actor_key_id: stored.actorKeyId,
        actor_role: stored.actorRole,
        action: stored.action,
        app_id: stored.appId,
        summary_json: JSON.stringify(stored.summary),
        result: stored.result,
        error_code: stored.errorCode,
      })
      .execute();
    return stored;
  }

  /** Newest first. `actor` is an API key id. */
  async list(query: AuditLogQuery): Promise<Page<AuditLogEntry>> {
    let select = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(query.limit + 1);
    if (query.appId !== undefined) select = select.where('app_id', '=', query.appId);
    if (query.actor !== undefined) select = select.where('actor_key_id', '=', query.actor);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    if (query.cursor !== undefined) select = select.where('id', '<', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, toEntry, (row) => [row.id]);
  }
}

function toEntry(row: Selectable<AuditLogTable>): AuditLogEntry {
  return {
    id: row.id,
    at: row.at,
    actorKeyId: row.actor_key_id,
    actorRole: row.actor_role,
    action: row.action,
    appId: row.app_id,
    summary: parseJsonObject(row.summary_json),
    result: row.result as AuditLogEntry['result'],
    errorCode: row.error_code,
  };
}
