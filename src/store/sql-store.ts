/**
 * The service's `Store`: fleet's repositories and the durable token store over one database, migrated on
 * open. `transaction(work)` hands `work` the same repositories bound to one database transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { Repositories, Store } from '../fleet/ports.ts';
import { SqlApiKeyRepository } from './api-key-repository.ts';
import { SqlAuditLogRepository } from './audit-log-repository.ts';
import { SqlCapabilityRepository } from './capability-repository.ts';
import { SqlChannelRepository } from './channel-repository.ts';
import { SqlCredentialExpiryRepository } from './credential-expiry-repository.ts';
import { SqlOnboardingRepository } from './onboarding-repository.ts';
import { openDatabase, type Database, type DialectName, type OpenDatabaseOptions } from './database.ts';
import { SqlMerchantRepository } from './merchant-repository.ts';
import { SqlMerchantTokenRepository } from './merchant-token-repository.ts';
import { migrateToLatest } from './migrate.ts';
import { SqlExtRepository } from './ext-repository.ts';
import { SqlPushEventRepository } from './push-event-repository.ts';
import { SqlRolloutRepository } from './rollout-repository.ts';
import { SqlRuntimeRepository } from './runtime-repository.ts';
import type { Schema } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import { SqlTokenStore } from './sql-token-store.ts';
import { SqlTemplateRepository } from './template-repository.ts';
import { joining, transactor, type Transact } from './transact.ts';

/** Fleet's repositories plus the ones its `Repositories` does not name yet, bound to one transaction. */
export interface SqlRepositories extends Repositories {
  rollouts: SqlRolloutRepository;
  channels: SqlChannelRepository;
  onboardings: SqlOnboardingRepository;
  runtime: SqlRuntimeRepository;
}

export interface OpenStoreOptions extends OpenDatabaseOptions {
  /** `DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:`, `postgres://…[?schema=<name>]`. */
  url: string;
  /** The 32-byte master key (see `loadSecretKey`) that encrypts credentials at rest. */
  secretKey: Uint8Array;
  /** Clock for lease expiry and `updated_at` columns (default `Date.now`). */
  now?: () => number;
  /** The component app whose merchant tokens `merchantTokens` deletes (the service's KS_COMPONENT_APP_ID). */
  componentAppId?: string;
}

/** Opens the database, brings its schema up to date, and returns the store over it. */
export async function openStore(options: OpenStoreOptions): Promise<SqlStore> {
  const box = new SecretBox(options.secretKey);
  const database = await openDatabase(options.url, options);
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return new SqlStore(database, box, options.now, options.componentAppId);
}

export class SqlStore implements Store {
  readonly dialect: DialectName;
  readonly merchants: SqlMerchantRepository;
  readonly capabilities: SqlCapabilityRepository;
  readonly pushEvents: SqlPushEventRepository;
  readonly merchantTokens: SqlMerchantTokenRepository;
  readonly auditLog: SqlAuditLogRepository;
  readonly apiKeys: SqlApiKeyRepository;
  /** Rollouts and their targets (fleet's `RolloutRepository`). */
  readonly rollouts: SqlRolloutRepository;
  /** The platform's template library as last synced (fleet's `TemplateRepository`). */
  readonly templates: SqlTemplateRepository;
  /** Ext defaults, overrides and their history (fleet's `ExtRepository`). */
  readonly ext: SqlExtRepository;
  /** Release channels, promotions and the onboarding policy (docs/onboarding.md). */
  readonly channels: SqlChannelRepository;
  /** Per-merchant onboarding records. */
  readonly onboardings: SqlOnboardingRepository;
  /** The merchant runtime's sessions, users and message records (docs/runtime.md; the runtime's `RuntimeRepository`). */
  readonly runtime: SqlRuntimeRepository;
  /** The `TokenStore` to give `KuaishouPlatform`/`TokenManager`: shared by every instance on this database. */
  readonly tokenStore: SqlTokenStore;
  /** When the component's credentials in `tokenStore` expire, without their values (for /metrics). */
  readonly credentialExpiries: SqlCredentialExpiryRepository;
  private readonly transact: Transact;
  private closing: Promise<void> | undefined;

  constructor(
    readonly database: Database,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
    private readonly componentAppId?: string,
  ) {
    this.dialect = database.dialect;
    this.merchants = new SqlMerchantRepository(database.db, now);
    this.capabilities = new SqlCapabilityRepository(database.db);
    this.auditLog = new SqlAuditLogRepository(database.db);
    this.apiKeys = new SqlApiKeyRepository(database.db);
    this.tokenStore = new SqlTokenStore(database.db, box, now);
    this.merchantTokens = new SqlMerchantTokenRepository(database.db, componentAppId);
    this.credentialExpiries = new SqlCredentialExpiryRepository(database.db, componentAppId);
    this.transact = transactor(database.db, database.dialect);
    this.pushEvents = new SqlPushEventRepository(database.db, database.dialect, this.transact);
    this.rollouts = new SqlRolloutRepository(database.db, database.dialect, this.transact);
    this.templates = new SqlTemplateRepository(database.db, this.transact);
    this.ext = new SqlExtRepository(database.db, this.transact);
    this.channels = new SqlChannelRepository(database.db, this.transact);
    this.onboardings = new SqlOnboardingRepository(database.db);
    this.runtime = new SqlRuntimeRepository(database.db, database.dialect, box, this.transact);
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Inside, use
   * only `tx`: on SQLite the store's single connection is held until `work` ends, so concurrent
   * transactions (and plain queries) queue instead of interleaving. Open one SqlStore per SQLite file per
   * process: a second connection in the same process waiting on the write lock would block the event loop.
   */
  transaction<T>(work: (tx: SqlRepositories) => Promise<T>): Promise<T> {
    return this.transact((db) => work(this.bind(db)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.database.db);
  }

  close(): Promise<void> {
    this.closing ??= this.database.close();
    return this.closing;
  }

  private bind(db: Kysely<Schema>): SqlRepositories {
    return {
      merchants: new SqlMerchantRepository(db, this.now),
      capabilities: new SqlCapabilityRepository(db),
      pushEvents: new SqlPushEventRepository(db, this.dialect, joining(db)),
      merchantTokens: new SqlMerchantTokenRepository(db, this.componentAppId),
      auditLog: new SqlAuditLogRepository(db),
      apiKeys: new SqlApiKeyRepository(db),
      rollouts: new SqlRolloutRepository(db, this.dialect, joining(db)),
      channels: new SqlChannelRepository(db, joining(db)),
      onboardings: new SqlOnboardingRepository(db),
      runtime: new SqlRuntimeRepository(db, this.dialect, this.box, joining(db)),
    };
  }
}
