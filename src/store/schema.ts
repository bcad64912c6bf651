/**
 * The tables as Kysely sees them. Portable across SQLite and PostgreSQL: text ids, JSON as text, epoch
 * milliseconds as integers (PostgreSQL `bigint`, parsed back into JS numbers by `openDatabase`).
 * This describes the latest migration; the migrations themselves never import it.
 */

export interface CredentialsTable {
  key: string;
  /** HMAC of the plaintext value, so compare-and-set can match without decrypting. */
  value_hash: string;
  value_enc: string;
  expires_at: number;
  refresh_enc: string | null;
  refresh_expires_at: number | null;
  meta_json: string | null;
  updated_at: number;
}

export interface LeasesTable {
  key: string;
  owner: string;
  expires_at: number;
}

export interface MerchantsTable {
  app_id: string;
  name: string | null;
  status: string;
  permissions_json: string;
  authorized_at: number;
  revoked_at: number | null;
  created_at: number;
  updated_at: number;
  last_audit_json: string | null;
}

export interface MerchantCapabilitiesTable {
  app_id: string;
  capability: string;
  status: string;
  reason: string | null;
  updated_at: number;
}

export interface PushEventsTable {
  msg_id: string;
  channel: string;
  event_type: string;
  app_id: string | null;
  received_at: number;
  outcome: string;
  summary_json: string;
  error: string | null;
}

export interface AuditLogTable {
  /** Sortable: zero-padded base36 time, a per-process sequence, a random suffix. */
  id: string;
  at: number;
  actor_key_id: string | null;
  actor_role: string | null;
  action: string;
  app_id: string | null;
  summary_json: string;
  result: string;
  error_code: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface VersionsCacheTable {
  app_id: string;
  versions_json: string;
  fetched_at: number;
}

export interface RolloutsTable {
  /** Given by the caller (sortable: newest last). */
  id: string;
  template_id: number;
  user_version: string;
  user_desc: string;
  status: string;
  /** 0 or 1. */
  auto_release: number;
  failures_acknowledged: number;
  max_failure_rate: number;
  concurrency: number;
  /** `WavePlan[]`. */
  waves_json: string;
  current_wave: number;
  pause_reason: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** `template` or `domains` (then the template columns hold 0 and ''). */
  kind: string;
  /** `DomainPolicySpec`, or null. */
  domains_json: string | null;
  /** `operator` or `onboarding` (0006). */
  origin: string;
  /** Channel to promote this rollout's version to when it completes (0006). */
  promote_to: string | null;
  /** Ext layer between the template's defaults and the merchant's overrides (0006). */
  ext_defaults_json: string | null;
}

export interface RolloutTargetsTable {
  rollout_id: string;
  app_id: string;
  wave: number;
  state: string;
  attempts: number;
  next_run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error_code: string | null;
  last_error: string | null;
  updated_at: number;
  /** Claims in the current state (migration 0005). */
  state_claims: number;
  /** The userVersion an audit push said passed (migration 0005). */
  audit_pushed: string | null;
}

export interface TemplatesTable {
  template_id: number;
  user_version: string;
  user_desc: string;
  /** The platform's creation time. */
  created_at: number;
  synced_at: number;
  removed_at: number | null;
}

export interface TemplateExtTable {
  template_id: number;
  ext_json: string;
  /** The app config beside it (JSON text; null: none). */
  app_config_json: string | null;
  version: number;
  updated_at: number;
  updated_by: string | null;
}

export interface MerchantExtTable {
  app_id: string;
  template_id: number;
  overrides_json: string;
  /** The app config beside it (JSON text; null: none). */
  app_config_json: string | null;
  version: number;
  updated_at: number;
  updated_by: string | null;
}

export interface ExtHistoryTable {
  template_id: number;
  /** '' for the template's defaults. */
  app_id: string;
  version: number;
  document_json: string;
  /** The app config beside it (JSON text; null: none). */
  app_config_json: string | null;
  actor_key_id: string | null;
  at: number;
}

export interface ChannelsTable {
  name: string;
  template_id: number;
  user_version: string;
  user_desc: string;
  ext_defaults_json: string | null;
  domain_policy_json: string | null;
  /** 0 or 1. */
  auto_release: number;
  version: number;
  /** Set on creation (migration 0007 backfilled older rows from updated_at); nullable column. */
  created_at: number | null;
  updated_at: number;
  updated_by: string | null;
}

export interface ChannelPromotionsTable {
  rollout_id: string;
  channel: string;
  promoted_at: number;
}

export interface OnboardingPolicyTable {
  /** Always `default`: one policy. */
  id: string;
  enabled: number;
  channel: string;
  /** 0, 1, or null (the channel decides). */
  auto_release: number | null;
  updated_at: number;
  updated_by: string | null;
}

export interface OnboardingsTable {
  app_id: string;
  status: string;
  channel: string;
  template_id: number;
  user_version: string;
  rollout_id: string | null;
  reason_code: string | null;
  reason: string | null;
  missing_permissions_json: string;
  trigger: string;
  domains_at: number | null;
  uploaded_at: number | null;
  auditing_at: number | null;
  live_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface RuntimeSessionsTable {
  /** Sortable id; the SecretBox context of `session_key` (`runtime-session:<id>`). */
  id: string;
  /** SHA-256 hex of the session token (the token itself is never stored). */
  token_hash: string;
  app_id: string;
  open_id: string;
  /** The platform's session_key, sealed. */
  session_key: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  /** `logout` or `revoked`. */
  ended_reason: string | null;
}

export interface RuntimeUsersTable {
  app_id: string;
  open_id: string;
  first_seen_at: number;
  last_seen_at: number;
  /** JSON of the `PhoneNumber`, sealed (context `runtime-phone:<appId>:<openId>`); null: none bound. */
  phone: string | null;
  phone_masked: string | null;
  phone_bound_at: number | null;
}

export interface RuntimeMessagesTable {
  id: string;
  app_id: string;
  open_id: string;
  template_id: string;
  page: string | null;
  sent_at: number;
  /** `sent` or `failed`. */
  result: string;
  error_code: string | null;
}

export interface Schema {
  credentials: CredentialsTable;
  leases: LeasesTable;
  merchants: MerchantsTable;
  merchant_capabilities: MerchantCapabilitiesTable;
  push_events: PushEventsTable;
  audit_log: AuditLogTable;
  api_keys: ApiKeysTable;
  versions_cache: VersionsCacheTable;
  rollouts: RolloutsTable;
  rollout_targets: RolloutTargetsTable;
  templates: TemplatesTable;
  template_ext: TemplateExtTable;
  merchant_ext: MerchantExtTable;
  ext_history: ExtHistoryTable;
  channels: ChannelsTable;
  channel_promotions: ChannelPromotionsTable;
  onboarding_policy: OnboardingPolicyTable;
  onboardings: OnboardingsTable;
  runtime_sessions: RuntimeSessionsTable;
  runtime_users: RuntimeUsersTable;
  runtime_messages: RuntimeMessagesTable;
}
