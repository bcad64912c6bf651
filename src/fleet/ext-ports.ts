/**
 * Templates and ext config as fleet sees them, and what it needs from storage (implemented by src/store).
 * An ext document is a JSON object; a template's defaults and each merchant's overrides are versioned
 * separately (version 0: never written), and every write is kept in the history.
 */
import type { AppConfigLayer } from './app-config.ts';
import type { Page } from './model.ts';

/** A JSON object, as ext documents are. */
export type ExtDocument = Record<string, unknown>;

/** A template of the platform's library as last synced. */
export interface TemplateRecord {
  templateId: number;
  userVersion: string;
  userDesc: string;
  /** When the platform created it. */
  createdAt: number;
  /** When a sync last saw it. */
  syncedAt: number;
}

/** A stored document with its version (0 and `updatedAt` null: never written). */
export interface VersionedExt {
  /** The custom config (the ext.json's `ext`). */
  document: ExtDocument;
  /** The app config beside it ({} when none). */
  appConfig: AppConfigLayer;
  version: number;
  updatedAt: number | null;
  /** The API key id of the last writer (null: the system or never written). */
  updatedBy: string | null;
}

/** One version of a document, as written. */
export interface ExtHistoryEntry {
  templateId: number;
  /** null: the template's defaults. */
  appId: string | null;
  version: number;
  document: ExtDocument;
  appConfig: AppConfigLayer;
  actorKeyId: string | null;
  at: number;
}

export interface ExtWrite {
  templateId: number;
  /** null: the template's defaults. */
  appId: string | null;
  document: ExtDocument;
  /** The app config beside it; absent: none. */
  appConfig?: AppConfigLayer;
  /** The version the writer read; the write happens only if it is still the current one. */
  baseVersion: number;
  actorKeyId: string | null;
  at: number;
}

export interface TemplateRepository {
  /**
   * Makes the stored list the platform's: upserts every template seen, marks the others removed. Returns the
   * templates on the platform now.
   */
  replaceAll(templates: Omit<TemplateRecord, 'syncedAt'>[], syncedAt: number): Promise<TemplateRecord[]>;
  /** Templates present at the last sync, by id. */
  list(): Promise<TemplateRecord[]>;
  get(templateId: number): Promise<TemplateRecord | undefined>;
}

export interface ExtRepository {
  /** The defaults (appId null) or one merchant's overrides; version 0 when never written. */
  get(templateId: number, appId: string | null): Promise<VersionedExt>;
  /**
   * Writes the next version and its history entry atomically, only if the current version is still
   * `baseVersion`. Returns the stored document, or undefined when another write got there first.
   */
  save(write: ExtWrite): Promise<VersionedExt | undefined>;
  /** Newest version first. */
  history(query: { templateId: number; appId: string | null; limit: number; cursor?: string }): Promise<Page<ExtHistoryEntry>>;
}
