/**
 * Ext documents: a template's defaults (`template_ext`), merchants' overrides (`merchant_ext`), and every
 * version of both (`ext_history`, app_id '' for defaults). A write is a compare-and-set on the version plus
 * its history row, in one transaction; the history's key (template, app, version) refuses a second writer
 * of the same version on any dialect.
 */
import type { Kysely } from 'kysely';
import type { AppConfigLayer } from '../fleet/app-config.ts';
import type { ExtHistoryEntry, ExtRepository, ExtWrite, VersionedExt } from '../fleet/ext-ports.ts';
import type { Page } from '../fleet/model.ts';
import { FleetError } from '../fleet/errors.ts';
import { decodeCursorPosition, parseJsonObject, toPage } from './paging.ts';
import type { Schema } from './schema.ts';
import type { Transact } from './transact.ts';

const DEFAULTS = '';

const NEVER_WRITTEN: VersionedExt = { document: {}, appConfig: {}, version: 0, updatedAt: null, updatedBy: null };

/** The app config column: null (none, or written before app configs existed) reads as {}. */
const appConfigOf = (json: string | null): AppConfigLayer => (json === null ? {} : (parseJsonObject(json)));
const appConfigJson = (appConfig: AppConfigLayer): string | null => (Object.keys(appConfig).length === 0 ? null : JSON.stringify(appConfig));

/** A failed insert because the key exists (SQLite and PostgreSQL word it differently). */
function isDuplicateKey(error: unknown): boolean {
  const text = error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : '';
  return /SQLITE_CONSTRAINT|23505|unique|duplicate key/i.test(text);
}

export class SqlExtRepository implements ExtRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly transact: Transact,
  ) {}

  async get(templateId: number, appId: string | null): Promise<VersionedExt> {
    const row =
      appId === null
        ? await this.db.selectFrom('template_ext').select(['ext_json as json', 'app_config_json', 'version', 'updated_at', 'updated_by']).where('template_id', '=', templateId).executeTakeFirst()
        : await this.db
            .selectFrom('merchant_ext')
            .select(['overrides_json as json', 'app_config_json', 'version', 'updated_at', 'updated_by'])
            .where('app_id', '=', appId)
            .where('template_id', '=', templateId)
            .executeTakeFirst();
    if (!row) return NEVER_WRITTEN;
    return { document: parseJsonObject(row.json), appConfig: appConfigOf(row.app_config_json), version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by };
  }

  async save(write: ExtWrite): Promise<VersionedExt | undefined> {
    const json = JSON.stringify(write.document);
    const appConfig = write.appConfig ?? {};
    const app = appConfigJson(appConfig);
    const version = write.baseVersion + 1;
    const stored: VersionedExt = { document: write.document, appConfig, version, updatedAt: write.at, updatedBy: write.actorKeyId };
    try {
      return await this.transact(async (db) => {
        const written = write.baseVersion === 0 ? await this.insertFirst(db, write, json, app) : await this.updateNext(db, write, json, app);
        if (!written) return undefined;
        await db
          .insertInto('ext_history')
          .values({ template_id: write.templateId, app_id: write.appId ?? DEFAULTS, version, document_json: json, app_config_json: app, actor_key_id: write.actorKeyId, at: write.at })
          .execute();
        return stored;
      });
    } catch (error) {
      // Two first writes at once: the loser's insert meets the winner's row.
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  async history(query: { templateId: number; appId: string | null; limit: number; cursor?: string }): Promise<Page<ExtHistoryEntry>> {
    let select = this.db
      .selectFrom('ext_history')
      .selectAll()
      .where('template_id', '=', query.templateId)
      .where('app_id', '=', query.appId ?? DEFAULTS)
      .orderBy('version', 'desc')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) select = select.where('version', '<', decodeVersionCursor(query.cursor));
    const rows = await select.execute();
    return toPage(
      rows,
      query.limit,
      (row) => ({
        templateId: row.template_id,
        appId: row.app_id === DEFAULTS ? null : row.app_id,
        version: row.version,
        document: parseJsonObject(row.document_json),
        appConfig: appConfigOf(row.app_config_json),
        actorKeyId: row.actor_key_id,
        at: row.at,
      }),
      (row) => [row.version],
    );
  }

  private async insertFirst(db: Kysely<Schema>, write: ExtWrite, json: string, app: string | null): Promise<boolean> {
    const meta = { app_config_json: app, version: 1, updated_at: write.at, updated_by: write.actorKeyId };
    if (write.appId === null) {
      const existing = await db.selectFrom('template_ext').select('version').where('template_id', '=', write.templateId).executeTakeFirst();
      if (existing) return false;
      await db.insertInto('template_ext').values({ template_id: write.templateId, ext_json: json, ...meta }).execute();
    } else {
      const existing = await db.selectFrom('merchant_ext').select('version').where('app_id', '=', write.appId).where('template_id', '=', write.templateId).executeTakeFirst();
      if (existing) return false;
      await db.insertInto('merchant_ext').values({ app_id: write.appId, template_id: write.templateId, overrides_json: json, ...meta }).execute();
    }
    return true;
  }

  private async updateNext(db: Kysely<Schema>, write: ExtWrite, json: string, app: string | null): Promise<boolean> {
    const meta = { app_config_json: app, version: write.baseVersion + 1, updated_at: write.at, updated_by: write.actorKeyId };
    const result =
      write.appId === null
        ? await db
            .updateTable('template_ext')
            .set({ ext_json: json, ...meta })
            .where('template_id', '=', write.templateId)
            .where('version', '=', write.baseVersion)
            .executeTakeFirst()
        : await db
            .updateTable('merchant_ext')
            .set({ overrides_json: json, ...meta })
            .where('app_id', '=', write.appId)
            .where('template_id', '=', write.templateId)
            .where('version', '=', write.baseVersion)
            .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

/** A cursor over history versions: `[version]`. */
function decodeVersionCursor(cursor: string): number {
  const [version, ...rest] = decodeCursorPosition(cursor);
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || rest.length > 0) {
    throw new FleetError('invalid_data', 'invalid_cursor', 'the cursor is not one a previous page returned');
  }
  return version;
}
