/** The platform's template library as last synced (A12). */
import type { Kysely, Selectable } from 'kysely';
import type { TemplateRecord, TemplateRepository } from '../fleet/ext-ports.ts';
import type { Schema, TemplatesTable } from './schema.ts';
import type { Transact } from './transact.ts';

export class SqlTemplateRepository implements TemplateRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly transact: Transact,
  ) {}

  async replaceAll(templates: Omit<TemplateRecord, 'syncedAt'>[], syncedAt: number): Promise<TemplateRecord[]> {
    await this.transact(async (db) => {
      for (const template of templates) {
        const row = { user_version: template.userVersion, user_desc: template.userDesc, created_at: template.createdAt, synced_at: syncedAt, removed_at: null };
        await db
          .insertInto('templates')
          .values({ template_id: template.templateId, ...row })
          .onConflict((oc) => oc.column('template_id').doUpdateSet(row))
          .execute();
      }
      let gone = db.updateTable('templates').set({ removed_at: syncedAt }).where('removed_at', 'is', null);
      if (templates.length > 0) gone = gone.where('template_id', 'not in', templates.map((t) => t.templateId));
      await gone.execute();
    });
    return this.list();
  }

  async list(): Promise<TemplateRecord[]> {
    const rows = await this.db.selectFrom('templates').selectAll().where('removed_at', 'is', null).orderBy('template_id').execute();
    return rows.map(toTemplate);
  }

  async get(templateId: number): Promise<TemplateRecord | undefined> {
    const row = await this.db.selectFrom('templates').selectAll().where('template_id', '=', templateId).where('removed_at', 'is', null).executeTakeFirst();
    return row && toTemplate(row);
  }
}

function toTemplate(row: Selectable<TemplatesTable>): TemplateRecord {
  return { templateId: row.template_id, userVersion: row.user_version, userDesc: row.user_desc, createdAt: row.created_at, syncedAt: row.synced_at };
}
