/**
 * Names for the REST API's shapes, for the console and the CLI alike. Every one is derived from
 * schema.d.ts (generated from the server's TypeBox schemas by `npm run gen:api`), never written out
 * again: a schema change reaches every reader through `npm run typecheck`. The few lists that must be
 * runtime values (a filter's options, the lists a form edits) are checked against the generated unions,
 * both ways, by `everyOf`.
 */
import type { components, paths } from './schema.d.ts';

type Method = 'get' | 'put' | 'post' | 'delete';
/** The paths that have an operation for `M`. */
export type PathWith<M extends Method> = { [P in keyof paths]: paths[P][M] extends undefined ? never : P }[keyof paths];
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Json<Response> = Response extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body an operation answers with on success (200 and 201 unless `Status` says which). */
export type Answer<P extends keyof paths, M extends Method = 'get', Status extends number = 200 | 201> =
  Operation<P, M> extends { responses: infer Responses } ? Json<Responses[keyof Responses & Status]> : never;
/** The JSON request body an operation takes. */
export type Body<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? NonNullable<B> : never;
/** The query parameters an operation takes. */
export type Query<P extends keyof paths, M extends Method = 'get'> = NonNullable<Operation<P, M>['parameters']['query']>;
/** The path parameters an operation takes. */
export type PathParams<P extends keyof paths, M extends Method = 'get'> = NonNullable<Operation<P, M>['parameters']['path']>;

type Schemas = components['schemas'];

export type ErrorBody = Schemas['Error'];
export type Me = Answer<'/api/v1/me'>;
export type Role = Me['role'];

export type Merchant = Schemas['Merchant'];
export type MerchantDetail = Answer<'/api/v1/merchants/{appId}'>;
export type MerchantQuery = Query<'/api/v1/merchants'>;
export type MerchantPage = Answer<'/api/v1/merchants'>;
export type Capability = Schemas['Capability'];
export type CapabilityName = PathParams<'/api/v1/merchants/{appId}/capabilities/{capability}'>['capability'];
export type Versions = Schemas['Versions'];
export type ServerDomains = Schemas['ServerDomains'];
export type ServerDomainList = keyof ServerDomains;
export type Template = Schemas['Template'];
export type ExtConfig = Answer<'/api/v1/merchants/{appId}/ext'>;
export type AuditLogEntry = Schemas['AuditLogEntry'];
export type AuditLogQuery = Query<'/api/v1/audit-log'>;
export type PushEvent = Answer<'/api/v1/push-events'>['items'][number];

export type OnboardingView = MerchantDetail['onboarding'];
export type OnboardingStatus = OnboardingView['status'];
export type OnboardingPolicy = Answer<'/api/v1/onboarding'>;
export type OnboardingPolicyBody = Body<'/api/v1/onboarding', 'put'>;
export type OnboardingStart = Answer<'/api/v1/merchants/{appId}/onboarding/start', 'post'>;
export type OnboardingPlan = Answer<'/api/v1/merchants/{appId}/onboarding/plan'>;
export type Channel = Answer<'/api/v1/channels/{name}'>;
export type ChannelBody = Body<'/api/v1/channels/{name}', 'put'>;
export type DomainPolicySpec = NonNullable<Channel['domainPolicy']>;

export type RolloutWithProgress = Answer<'/api/v1/rollouts/{id}'>;
export type Rollout = RolloutWithProgress['rollout'];
export type Progress = RolloutWithProgress['progress'];
export type RolloutStatus = Rollout['status'];
export type RolloutTarget = Answer<'/api/v1/rollouts/{id}/targets'>['items'][number];
export type TargetState = RolloutTarget['state'];
export type NewRollout = Body<'/api/v1/rollouts', 'post'>;
export type RolloutTargets = NewRollout['targets'];
export type Wave = NonNullable<NewRollout['waves']>[number];
/** The `end` event of a rollout's event stream (its `progress` events carry a RolloutWithProgress). */
export interface RolloutEnd {
  status: RolloutStatus;
}

export type Platform = Answer<'/api/v1/platform'>;
export type RuntimeStats = Answer<'/api/v1/merchants/{appId}/runtime'>;
export type RuntimeUserPage = Answer<'/api/v1/merchants/{appId}/users'>;
export type RuntimeUser = Schemas['RuntimeUser'];
export type ApiKey = Schemas['ApiKey'];
export type NewApiKey = Body<'/api/v1/keys', 'post'>;
export type CreatedApiKey = Answer<'/api/v1/keys', 'post'>;

export type DomainPolicyBody = Body<'/api/v1/domain-policies', 'post'>;
/** What a dry run answers (200); applying answers the rollout it started (201). */
export type DomainDriftReport = Answer<'/api/v1/domain-policies', 'post', 200>;
export type DomainDrift = DomainDriftReport['items'][number];
export type DomainChange = NonNullable<DomainDrift['webview']>;

/**
 * A runtime list of every member of the union `U`, checked both ways at compile time: a value outside
 * `U` fails, and so does a member of `U` missing from the list (the error names it). Order is the caller's.
 */
export const everyOf =
  <U extends string>() =>
  <const L extends readonly U[]>(list: L & ([U] extends [L[number]] ? unknown : { missing: Exclude<U, L[number]> })): L =>
    list;

/** The roles a new key may have, in the order a form offers them. */
export const ROLES = everyOf<Role>()(['viewer', 'operator', 'admin', 'runtime']);
export const ROLLOUT_STATUSES = everyOf<RolloutStatus>()(['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back']);
export const TARGET_STATES = everyOf<TargetState>()(['pending', 'uploaded', 'auditing', 'audit_passed', 'released', 'applied', 'rejected', 'failed', 'skipped', 'rolled_back']);
export const SERVER_DOMAIN_LISTS = everyOf<ServerDomainList>()(['request', 'socket', 'uploadFile', 'downloadFile', 'udp']);
export const CAPABILITIES = everyOf<CapabilityName>()(['short-video-mount', 'live-mount', 'publish-kuaishou', 'phone-number']);
