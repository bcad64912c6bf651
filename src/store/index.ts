/** The store: Kysely over SQLite (default) or PostgreSQL, fleet's repositories, and the durable token store. */
export { openDatabase, type Database, type DialectName, type OpenDatabaseOptions } from './database.ts';
export { parseDatabaseUrl, type DatabaseTarget } from './database-url.ts';
export { migrateToLatest, migrationNames } from './migrate.ts';
export type { Schema } from './schema.ts';
export { DEFAULT_SECRET_KEY_FILE, loadSecretKey, SecretBox, SecretBoxError, type LoadSecretKeyOptions } from './secret-box.ts';
export { SqlTokenStore } from './sql-token-store.ts';
export { openStore, SqlStore, type OpenStoreOptions, type SqlRepositories } from './sql-store.ts';
export { SqlMerchantRepository } from './merchant-repository.ts';
export { SqlCapabilityRepository } from './capability-repository.ts';
export { SqlPushEventRepository } from './push-event-repository.ts';
export { SqlAuditLogRepository } from './audit-log-repository.ts';
export { SqlApiKeyRepository } from './api-key-repository.ts';
export { SqlRolloutRepository } from './rollout-repository.ts';
export { SqlTemplateRepository } from './template-repository.ts';
export { SqlExtRepository } from './ext-repository.ts';
export { joining, transactor, type Transact } from './transact.ts';
export { SqlChannelRepository } from './channel-repository.ts';
export { SqlOnboardingRepository } from './onboarding-repository.ts';
